/*
 * client: the receiver, one program for all three techniques so that what
 * differs between A1, A2 and A3 results is the sender alone. One thread per
 * connection, the measured window, live lines, the result line.
 */
#ifndef COPYBENCH_CLIENT_H
#define COPYBENCH_CLIENT_H

/* The whole client: every technique's receiver is the same program. */
int cb_client_main(int argc, char **argv, const char *impl, unsigned impl_num);

#endif
