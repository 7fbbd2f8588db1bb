/*
 * Applying a configuration to the running daemon without dropping a
 * connection; starting is applying the first one. Forwards are matched by
 * name and listening sockets by address: an unchanged forward keeps its
 * socket (no gap at all), a removed one stops listening while its
 * connections finish, a new one starts, a changed one switches.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "activation.h"
#include "daemon.h"
#include "log.h"
#include "reload.h"

/* Where the i-th configured forward and its listening socket come from. */
struct plan_entry {
	struct forward *existing; /* the running forward of that name */
	struct forward *created;  /* or a new one */
	struct forward *owner;    /* a running forward whose socket moves */
	struct listener *passed;  /* or one the service manager passed */
	struct listener *fresh;   /* or one opened for this configuration */
};

static struct forward *
find_by_name(struct forward *list, const char *name)
{
	for (; list != NULL; list = list->next) {
		if (strcmp(list->conf.name, name) == 0) {
			return list;
		}
	}
	return NULL;
}

static int
claimed(const struct plan_entry *plan, size_t n, const struct forward *fwd)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (plan[i].owner == fwd) {
			return 1;
		}
	}
	return 0;
}

/* A running socket this forward can keep: its own when the service
 * manager passed it, otherwise any bound to the same address. */
static struct forward *
reusable_owner(struct daemon *d, const struct plan_entry *plan, size_t n,
    const struct forward_conf *conf)
{
	struct forward *fwd = find_by_name(d->forwards, conf->name);

	if (fwd != NULL && fwd->listener != NULL &&
	    listener_is_adopted(fwd->listener)) {
		return fwd;
	}
	for (fwd = d->forwards; fwd != NULL; fwd = fwd->next) {
		if (fwd->listener != NULL && !claimed(plan, n, fwd) &&
		    listener_has_address(fwd->listener, &conf->listen_addr)) {
			return fwd;
		}
	}
	return NULL;
}

static void
abandon_plan(struct plan_entry *plan, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		listener_close(plan[i].fresh);
		forward_free(plan[i].created);
	}
	free(plan);
}

/* Finds or opens a socket for entry i; the only step that can fail. */
static int
plan_listener(struct daemon *d, struct plan_entry *plan, size_t i,
    const struct forward_conf *conf, char *err, size_t errlen)
{
	char why[256];

	plan[i].owner = reusable_owner(d, plan, i, conf);
	if (plan[i].owner == NULL) {
		plan[i].passed = activation_find(d->activation, conf->name);
	}
	if (plan[i].owner != NULL || plan[i].passed != NULL) {
		return 0;
	}
	plan[i].fresh = listener_open(d->base, &conf->listen_addr,
	    &conf->sock_opts, why, sizeof(why));
	if (plan[i].fresh == NULL) {
		snprintf(err, errlen, "%s: cannot listen on %s: %s", conf->name,
		    conf->listen.text, why);
		return -1;
	}
	return 0;
}

static struct plan_entry *
make_plan(struct daemon *d, const struct config *cfg, char *err,
    size_t errlen)
{
	struct plan_entry *plan = calloc(cfg->nforwards + 1, sizeof(*plan));
	size_t i;

	if (plan == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (i = 0; i < cfg->nforwards; i++) {
		const struct forward_conf *conf = &cfg->forwards[i];

		plan[i].existing = find_by_name(d->forwards, conf->name);
		if (plan[i].existing == NULL) {
			plan[i].created = forward_new(d, conf);
		}
		if (plan[i].existing == NULL && plan[i].created == NULL) {
			snprintf(err, errlen, "out of memory");
			abandon_plan(plan, i + 1);
			return NULL;
		}
		if (plan_listener(d, plan, i, conf, err, errlen) != 0) {
			abandon_plan(plan, i + 1);
			return NULL;
		}
	}
	return plan;
}

/* A forward no longer configured: stops listening, drains, then goes. */
static void
retire(struct daemon *d, struct forward *fwd)
{
	forward_stop_listening(fwd);
	fwd->removed = 1;
	log_info("%s: removed from the configuration, %u connection(s) to finish",
	    fwd->conf.name, fwd->active);
	if (fwd->active == 0) {
		forward_free(fwd);
		return;
	}
	fwd->next = d->draining;
	d->draining = fwd;
}

static void
commit_plan(struct daemon *d, const struct config *cfg,
    struct plan_entry *plan)
{
	struct forward *old = d->forwards, *fwd = NULL, *next = NULL;
	struct forward **tail = &d->forwards;
	size_t i;

	/* Sockets move first: one may go from a forward to another. */
	for (i = 0; i < cfg->nforwards; i++) {
		if (plan[i].owner != NULL) {
			plan[i].fresh = forward_detach_listener(plan[i].owner);
		} else if (plan[i].passed != NULL) {
			plan[i].fresh = activation_take(d->activation,
			    plan[i].passed);
		}
	}
	for (fwd = old; fwd != NULL; fwd = next) {
		next = fwd->next;
		if (config_find_forward(cfg, fwd->conf.name) == NULL) {
			retire(d, fwd);
		}
	}
	for (i = 0; i < cfg->nforwards; i++) {
		fwd = plan[i].existing != NULL ? plan[i].existing :
		    plan[i].created;
		fwd->conf = cfg->forwards[i];
		forward_stop_listening(fwd);
		forward_listen(fwd, plan[i].fresh);
		*tail = fwd;
		tail = &fwd->next;
	}
	*tail = NULL;
	free(plan);
}

int
reload_apply(struct daemon *d, struct config *cfg, char *err, size_t errlen)
{
	struct plan_entry *plan = make_plan(d, cfg, err, errlen);

	if (plan == NULL) {
		return -1;
	}
	commit_plan(d, cfg, plan);
	config_free(d->cfg);
	d->cfg = cfg;
	log_set_level(cfg->log_level);
	daemon_apply_limit(d);
	return 0;
}
