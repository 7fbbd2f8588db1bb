#include "autoconfig.h"

#include <stdio.h>

#include "usage.h"

int
usage_error(const char *msg)
{
	fprintf(stderr, "hvrelay: %s\nTry 'hvrelay --help' for more information.\n",
	    msg);
	return EXIT_USAGE;
}
