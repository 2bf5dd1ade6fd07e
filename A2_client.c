/*
 * Client for the A2 (one-copy) server: opens -t connections, one thread each,
 * and receives. The receiver is deliberately the same program for all three
 * techniques (it lives in src/client.c): it reads in large chunks and finds
 * message boundaries itself, so the only thing that differs between A1, A2
 * and A3 results is how the server sends. It checks that the server it
 * reaches really runs A2, so results are never mislabelled.
 */
#include "client.h"

int main(int argc, char **argv)
{
	return cb_client_main(argc, argv, "A2", 2);
}
