/*
 * Unit tests of src/opts.c: the number and size parsers and the server and
 * client command lines, run in a child so usage errors (exit 2) can be
 * checked with their one stderr line. Prints TAP.
 */
#define _GNU_SOURCE
#include "unit.h"

#include "opts.h"

#include <getopt.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- running a parser in a child: exit code and stderr ------------------- */

struct outcome { int code; char err[512]; bool exited; };

static struct outcome run_child(void (*fn)(int, char **), char **argv)
{
	struct outcome o = { 0 };
	int argc = 0, p[2];
	pid_t pid;

	while (argv[argc])
		argc++;
	if (pipe(p) < 0)
		abort();
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 2);
		close(p[0]);
		if (!freopen("/dev/null", "w", stdout))
			_exit(99);
		fn(argc, argv);
		_exit(0);
	}
	close(p[1]);
	ssize_t n, got = 0;
	while ((n = read(p[0], o.err + got, sizeof(o.err) - 1 - (size_t)got)) > 0)
		got += n;
	o.err[got] = 0;
	close(p[0]);
	int st;
	waitpid(pid, &st, 0);
	o.exited = WIFEXITED(st);
	o.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return o;
}

static struct cb_client_opts copts;
static struct cb_server_opts sopts;
static void parse_client(int argc, char **argv) { optind = 0; cb_client_parse(argc, argv, "A2", &copts); }
static void parse_server(int argc, char **argv) { optind = 0; cb_server_parse(argc, argv, "A2", NULL, &sopts); }

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void expect_usage_error(void (*fn)(int, char **), char **argv, const char *names, const char *what)
{
	struct outcome o = run_child(fn, argv);

	ok(o.exited && o.code == 2 && count_lines(o.err) == 1 && strstr(o.err, names),
	   "%s: exit 2, one line naming %s (got %d: %.*s)", what, names, o.code,
	   (int)strcspn(o.err, "\n"), o.err);
}

static void test_options(void)
{
	char *a1[] = { "A2_client", "-H", "h", NULL };
	optind = 0;
	cb_client_parse(3, a1, "A2", &copts);
	ok(copts.port == CB_DEFAULT_PORT && copts.size == CB_DEFAULT_SIZE && copts.threads == 1 &&
	   copts.duration == CB_DEFAULT_DURATION && copts.mode == CB_STREAM && !copts.verify &&
	   copts.interval == 0 && copts.rcvlowat == CB_DEFAULT_RCVLOWAT, "client defaults");

	char *a2[] = { "A2_client", "--host", "x", "-p", "9", "-s", "64K", "-t", "8", "-d", "0.5",
		       "-m", "rr", "-i", "1", "--verify", NULL };
	optind = 0;
	cb_client_parse(16, a2, "A2", &copts);
	ok(!strcmp(copts.host, "x") && copts.port == 9 && copts.size == 65536 && copts.threads == 8 &&
	   copts.duration == 0.5 && copts.mode == CB_RR && copts.interval == 1 && copts.verify,
	   "client options all set, 64K suffix");

	char *lw[] = { "A2_client", "-H", "x", "--rcvlowat", "0", NULL };
	optind = 0;
	cb_client_parse(5, lw, "A2", &copts);
	ok(copts.rcvlowat == 0, "--rcvlowat 0 turns the low-water mark off");
	char *lw2[] = { "A2_client", "-H", "x", "--rcvlowat=128K", NULL };
	optind = 0;
	cb_client_parse(4, lw2, "A2", &copts);
	ok(copts.rcvlowat == 131072, "--rcvlowat=128K");

	char *a3[] = { "A2_server", "-p", "0", "-n", "4", "-b", "127.0.0.1", "-q", NULL };
	optind = 0;
	cb_server_parse(8, a3, "A2", NULL, &sopts);
	ok(sopts.port == 0 && sopts.clients == 4 && !strcmp(sopts.bind_addr, "127.0.0.1") && sopts.quiet,
	   "server options");
	ok(sopts.footprint == 0, "--footprint defaults to 0: one message (hot)");
	char *fp1[] = { "A2_server", "--footprint", "256M", NULL };
	optind = 0;
	cb_server_parse(3, fp1, "A2", NULL, &sopts);
	ok(sopts.footprint == 256ull << 20, "--footprint 256M");
	char *fp2[] = { "A2_server", "--mem-budget=4G", "--footprint=1g", NULL };
	optind = 0;
	cb_server_parse(3, fp2, "A2", NULL, &sopts);
	ok(sopts.footprint == 1ull << 30 && sopts.mem_budget == 4ull << 30, "--footprint=1g, --mem-budget=4G: G suffix");
	char *fp3[] = { "A2_server", "--mem-budget", "2M", "--footprint", "2097152", NULL };
	optind = 0;
	cb_server_parse(5, fp3, "A2", NULL, &sopts);
	ok(sopts.footprint == 2ull << 20, "--footprint equal to the budget is accepted");

	struct { char *argv[8]; const char *names; } bad[] = {
		{ { "c", NULL }, "-H/--host" },
		{ { "c", "-H", "", NULL }, "-H/--host" },
		{ { "c", "-H", "h", "-s", "15", NULL }, "-s/--size" },
		{ { "c", "-H", "h", "-s", "65M", NULL }, "-s/--size" },
		{ { "c", "-H", "h", "-s", "12x", NULL }, "-s/--size" },
		{ { "c", "-H", "h", "-s", "99999999999999999999", NULL }, "-s/--size" },
		{ { "c", "-H", "h", "-s", "-1", NULL }, "-s/--size" },
		{ { "c", "-H", "h", "-t", "0", NULL }, "-t/--threads" },
		{ { "c", "-H", "h", "-t", "1025", NULL }, "-t/--threads" },
		{ { "c", "-H", "h", "-t", "", NULL }, "-t/--threads" },
		{ { "c", "-H", "h", "-t", " 5", NULL }, "-t/--threads" },
		{ { "c", "-H", "h", "-d", " 1", NULL }, "-d/--duration" },
		{ { "c", "-H", "h", "-s", "\t64K", NULL }, "-s/--size" },
		{ { "c", "-H", "h", "-d", "0", NULL }, "-d/--duration" },
		{ { "c", "-H", "h", "-d", "nan", NULL }, "-d/--duration" },
		{ { "c", "-H", "h", "-d", "1e999", NULL }, "-d/--duration" },
		{ { "c", "-H", "h", "-p", "0", NULL }, "-p/--port" },
		{ { "c", "-H", "h", "-p", "65536", NULL }, "-p/--port" },
		{ { "c", "-H", "h", "-m", "bulk", NULL }, "-m/--mode" },
		{ { "c", "-H", "h", "--rcvlowat", "-1", NULL }, "--rcvlowat" },
		{ { "c", "-H", "h", "--rcvlowat", "17M", NULL }, "--rcvlowat" },
		{ { "c", "-H", "h", "--rcvlowat", "lots", NULL }, "--rcvlowat" },
		{ { "c", "-H", "h", "-i", "0.001", NULL }, "-i/--interval" },
		{ { "c", "-H", "h", "--bogus", NULL }, "--bogus" },
		{ { "c", "-H", "h", "-z", NULL }, "-z" },
		{ { "c", "-H", "h", "-s", NULL }, "-s" },
		{ { "c", "-H", "h", "extra", NULL }, "extra" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_usage_error(parse_client, bad[i].argv, bad[i].names, "client bad option");

	struct { char *argv[6]; const char *names; } sbad[] = {
		{ { "s", "-p", "-1", NULL }, "-p/--port" },
		{ { "s", "-p", "http", NULL }, "-p/--port" },
		{ { "s", "-n", "0", NULL }, "-n/--clients" },
		{ { "s", "-n", "1x", NULL }, "-n/--clients" },
		{ { "s", "-b", "", NULL }, "-b/--bind" },
		{ { "s", "--clients", NULL }, "--clients" },
		{ { "s", "--footprint", "-1", NULL }, "--footprint" },
		{ { "s", "--footprint", "1T", NULL }, "--footprint" },
		{ { "s", "--footprint", "1.5M", NULL }, "--footprint" },
		{ { "s", "--footprint", "", NULL }, "--footprint" },
		{ { "s", "--footprint", "65G", NULL }, "--footprint" },
		{ { "s", "--footprint", "99999999999G", NULL }, "--footprint" },
		{ { "s", "--mem-budget", "1M", "--footprint", "2M", NULL }, "--footprint" },
		{ { "s", "--footprint", NULL }, "--footprint" },
	};
	for (size_t i = 0; i < sizeof(sbad) / sizeof(sbad[0]); i++)
		expect_usage_error(parse_server, sbad[i].argv, sbad[i].names, "server bad option");

	char *help[] = { "c", "--help", NULL };
	struct outcome o = run_child(parse_client, help);
	ok(o.exited && o.code == 0 && !o.err[0], "--help exits 0, nothing on stderr");
}

int main(void)
{
	test_options();
	return done_testing();
}
