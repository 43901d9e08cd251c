/* lqd's SQLite state (control/lqd_store.h). The spec is kept as the
 * same JSON the API takes, so a row is re-validated by lqd_spec_parse on
 * load exactly like a request would be. */
#include "control/lqd_store.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

static const char lqd_schema[] =
	"CREATE TABLE IF NOT EXISTS vms ("
	" name TEXT PRIMARY KEY NOT NULL,"
	" spec TEXT NOT NULL,"
	" desired TEXT NOT NULL,"
	" observed TEXT NOT NULL,"
	" pid INTEGER NOT NULL DEFAULT 0,"
	" boots INTEGER NOT NULL DEFAULT 0,"
	" last_exit INTEGER,"
	" created_at REAL NOT NULL,"
	" started_at REAL NOT NULL DEFAULT 0)";

static int lqd_store_exec(struct lqd *d, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(d->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		log_error("state store: %s: %s", sql, msg ? msg : "failed");
		sqlite3_free(msg);
		return -EIO;
	}
	return 0;
}

int lqd_store_open(struct lqd *d)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/lqd.db", d->state_dir);
	if (sqlite3_open_v2(path, &d->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		log_error("%s: cannot open the state database: %s", path,
			  d->db ? sqlite3_errmsg(d->db) : "out of memory");
		lqd_store_close(d);
		return -EIO;
	}
	/* WAL: a crash (kill -9) never leaves a torn database, and
	 * synchronous=NORMAL is durable enough for that in WAL mode. */
	if (lqd_store_exec(d, "PRAGMA journal_mode=WAL") ||
	    lqd_store_exec(d, "PRAGMA synchronous=NORMAL") || lqd_store_exec(d, lqd_schema)) {
		lqd_store_close(d);
		return -EIO;
	}
	sqlite3_busy_timeout(d->db, 2000);
	return 0;
}

void lqd_store_close(struct lqd *d)
{
	sqlite3_close(d->db);
	d->db = NULL;
}

int lqd_store_put(struct lqd *d, const struct lqd_vm *vm)
{
	static const char sql[] =
		"INSERT INTO vms (name, spec, desired, observed, pid, boots, last_exit, created_at,"
		" started_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
		" ON CONFLICT(name) DO UPDATE SET spec=?2, desired=?3, observed=?4, pid=?5,"
		" boots=?6, last_exit=?7, started_at=?9";
	cJSON *spec = lqd_spec_to_json(&vm->spec);
	char *text = spec ? cJSON_PrintUnformatted(spec) : NULL;
	sqlite3_stmt *st = NULL;
	int rc = -EIO;

	cJSON_Delete(spec);
	if (!text)
		return -ENOMEM;
	if (sqlite3_prepare_v2(d->db, sql, -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, vm->spec.name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, lqd_desired_name(vm->desired), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, lqd_observed_name(vm->observed), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, vm->pid);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)vm->boots);
	if (vm->has_exit)
		sqlite3_bind_int(st, 7, vm->last_exit);
	else
		sqlite3_bind_null(st, 7);
	sqlite3_bind_double(st, 8, vm->created_at);
	sqlite3_bind_double(st, 9, vm->started_at);
	if (sqlite3_step(st) == SQLITE_DONE)
		rc = 0;
out:
	if (rc)
		log_error("state store: cannot save VM %s: %s", vm->spec.name, sqlite3_errmsg(d->db));
	sqlite3_finalize(st);
	free(text);
	return rc;
}

int lqd_store_delete(struct lqd *d, const char *name)
{
	sqlite3_stmt *st = NULL;
	int rc = -EIO;

	if (sqlite3_prepare_v2(d->db, "DELETE FROM vms WHERE name = ?1", -1, &st, NULL) ==
	    SQLITE_OK) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_DONE)
			rc = 0;
	}
	if (rc)
		log_error("state store: cannot delete VM %s: %s", name, sqlite3_errmsg(d->db));
	sqlite3_finalize(st);
	return rc;
}

static int lqd_store_enum(const char *s, const char *const *names, unsigned n)
{
	for (unsigned i = 0; s && i < n; i++)
		if (!strcmp(s, names[i]))
			return (int)i;
	return 0;
}

static struct lqd_vm *lqd_store_row(struct lqd *d, sqlite3_stmt *st)
{
	static const char *const desired[] = { "stopped", "running" };
	static const char *const observed[] = { "stopped", "running", "paused", "crashed" };
	const char *name = (const char *)sqlite3_column_text(st, 0);
	const char *text = (const char *)sqlite3_column_text(st, 1);
	cJSON *spec = text ? cJSON_Parse(text) : NULL;
	struct lqd_vm *vm = calloc(1, sizeof(*vm));
	char err[256];

	if (!vm || !spec || lqd_spec_parse(spec, &d->limits, &vm->spec, NULL, err, sizeof(err))) {
		log_error("state store: VM %s: stored spec does not validate (%s); skipped",
			  name ? name : "?", spec ? err : "not JSON");
		cJSON_Delete(spec);
		free(vm);
		return NULL;
	}
	cJSON_Delete(spec);
	vm->desired = (enum lqd_desired)lqd_store_enum((const char *)sqlite3_column_text(st, 2),
						       desired, 2);
	vm->observed = (enum lqd_observed)lqd_store_enum((const char *)sqlite3_column_text(st, 3),
							 observed, 4);
	vm->pid = (pid_t)sqlite3_column_int64(st, 4);
	vm->boots = (uint64_t)sqlite3_column_int64(st, 5);
	vm->has_exit = sqlite3_column_type(st, 6) != SQLITE_NULL;
	vm->last_exit = sqlite3_column_int(st, 6);
	vm->created_at = sqlite3_column_double(st, 7);
	vm->started_at = sqlite3_column_double(st, 8);
	snprintf(vm->rundir, sizeof(vm->rundir), "%s/run/%s", d->state_dir, vm->spec.name);
	return vm;
}

int lqd_store_load(struct lqd *d)
{
	sqlite3_stmt *st = NULL;
	struct lqd_vm **tail = &d->vms;
	int rc;

	if (sqlite3_prepare_v2(d->db,
			       "SELECT name, spec, desired, observed, pid, boots, last_exit,"
			       " created_at, started_at FROM vms ORDER BY created_at", -1, &st,
			       NULL) != SQLITE_OK) {
		log_error("state store: cannot read VMs: %s", sqlite3_errmsg(d->db));
		return -EIO;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct lqd_vm *vm = lqd_store_row(d, st);

		if (vm) {
			*tail = vm;
			tail = &vm->next;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		log_error("state store: reading VMs failed: %s", sqlite3_errmsg(d->db));
		return -EIO;
	}
	return 0;
}
