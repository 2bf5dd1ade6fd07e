/*
 * Client for the A4 (io_uring zero-copy) server: opens -t connections, one
 * thread each, and receives. The receiver is the same program for every
 * technique (src/client.c), so what differs between A1-A4 results is how the
 * server sends. It checks that the server it reaches really runs A4, so
 * results are never mislabelled.
 */
#include "client.h"

int main(int argc, char **argv)
{
	return cb_client_main(argc, argv, "A4", 4);
}
