/* Windows has no socket activation: nothing is ever passed. */
#include "autoconfig.h"

#include <stddef.h>

#include "activation.h"

struct activation *
activation_receive(struct event_base *base)
{
	(void)base;
	return NULL;
}

struct listener *
activation_find(struct activation *a, const char *name)
{
	(void)a;
	(void)name;
	return NULL;
}

struct listener *
activation_take(struct activation *a, struct listener *l)
{
	(void)a;
	return l;
}

void
activation_report_unused(const struct activation *a)
{
	(void)a;
}

void
activation_free(struct activation *a)
{
	(void)a;
}
