/*
 * pooldesk_logins: a Mosquitto 2.0 plugin (API v5) holding PoolDesk's MQTT logins in memory.
 *
 * Why: the dynamic-security plugin rewrites its whole JSON store after every command, in the
 * broker's only thread, so with 10,000 logins each change stalls every client for ~0.2 s. This
 * plugin keeps the logins in a hash table and appends each change to a journal (one short line),
 * so a change costs microseconds; the journal is compacted at start and when it has grown to
 * several times the live table (while the broker runs, in a forked child: see "compaction").
 *
 * Load it BEFORE the dynamic-security plugin: it answers for the logins it knows and defers
 * everything else (the admin login, logins created by older versions) to dynamic security.
 *
 * Options:
 *   plugin_opt_journal <file>        where logins persist (required)
 *   plugin_opt_admin <username>      the only login allowed on the control topic (required)
 *
 * Control topic `$CONTROL/pooldesk-logins/v1`, payload lines separated by '\n', fields by '\t':
 *   id <token>                                  first line; echoed in the answer
 *   put <user> <clientid> <hash> <rule>...     hash: dynsec-pbkdf2-sha512$<iter>$<salt b64>$<key b64>
 *                                              rule: `p<topic>` publish, `s<filter>` subscribe
 *                                              pattern, `r<filter>` receive; upper case
 *                                              (`P`, `S`, `R`): deny, decided before any allow.
 *                                              A put that takes a right away from an existing
 *                                              login cuts its live connections.
 *   del <user>                                  delete and kick its live connections at once
 *   list                                        answer: the usernames
 *   used <user>...                              answer: `<user>=<n>` for each of these logins
 *                                              a client has logged in with since it was put,
 *                                              n counting log-ins (the latest has the highest;
 *                                              in memory only: a restarted broker knows the
 *                                              log-ins since its start; a put that keeps the
 *                                              password keeps it). The backend retires a
 *                                              device's replaced login only once the device's
 *                                              latest log-in was with the new one.
 * Answer on `$CONTROL/pooldesk-logins/v1/response`: `id <token>` then one line per command,
 * `ok[\t<user>...]` or `error\t<message>`.
 */
#define _GNU_SOURCE /* pipe2 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#define CONTROL_TOPIC "$CONTROL/pooldesk-logins/v1"
#define RESPONSE_TOPIC "$CONTROL/pooldesk-logins/v1/response"
#define CONTROL_PREFIX "$CONTROL/pooldesk-logins/"
#define HASH_SCHEME "dynsec-pbkdf2-sha512"
#define BUCKETS 65536u
#define MAX_RULES 1024

enum { RULE_PUB = 'p', RULE_SUB = 's', RULE_RECV = 'r' };

struct login {
	struct login *next;
	char *username;
	char *clientid;
	char *line; /* the put line, tokenised: the fields below point into it */
	unsigned char salt[64];
	int salt_len;
	unsigned char key[64];
	int iterations;
	int rule_count;
	char *rule_type;   /* rule_count letters */
	char **rule_topic; /* rule_count topics, pointing into line */
	unsigned long long used; /* the latest log-in with it (`logins_seen`); 0: none; not journaled */
};

static mosquitto_plugin_id_t *plugin_id;
static struct login *table[BUCKETS];
static long live_count;
static long journal_lines;
static char *journal_path;
static char *admin_name;
static FILE *journal;
static unsigned long long logins_seen; /* successful log-ins since the broker started */

static uint32_t hash_name(const char *s)
{
	uint32_t h = 2166136261u;
	while (*s) {
		h = (h ^ (unsigned char)*s++) * 16777619u;
	}
	return h % BUCKETS;
}

static struct login *find(const char *username)
{
	struct login *l;
	if (!username) {
		return NULL;
	}
	for (l = table[hash_name(username)]; l; l = l->next) {
		if (!strcmp(l->username, username)) {
			return l;
		}
	}
	return NULL;
}

static void free_login(struct login *l)
{
	free(l->rule_type);
	free(l->rule_topic);
	free(l->line);
	free(l);
}

static bool remove_login(const char *username)
{
	struct login **p = &table[hash_name(username)];
	for (; *p; p = &(*p)->next) {
		if (!strcmp((*p)->username, username)) {
			struct login *gone = *p;
			*p = gone->next;
			free_login(gone);
			live_count--;
			return true;
		}
	}
	return false;
}

/* Base64 decode into out (at most cap bytes); returns the length or -1. */
static int b64_decode(const char *in, unsigned char *out, int cap)
{
	size_t n = strlen(in);
	int pad = 0, len;
	unsigned char buf[128];
	if (n == 0 || n % 4 || n > sizeof(buf) / 3 * 4) {
		return -1;
	}
	if (in[n - 1] == '=') pad++;
	if (in[n - 2] == '=') pad++;
	len = EVP_DecodeBlock(buf, (const unsigned char *)in, (int)n);
	if (len < 0 || len - pad > cap) {
		return -1;
	}
	memcpy(out, buf, (size_t)(len - pad));
	return len - pad;
}

/* Parse `user\tclientid\thash\trule...` (modified in place, owned by the login). */
static const char *parse_login(char *line, struct login *l)
{
	char *save = NULL, *field, *hash, *scheme, *iter, *salt, *key, *c;
	int fields = 1;
	for (c = line; *c; c++) {
		fields += *c == '\t';
	}
	l->rule_type = calloc((size_t)fields, 1);
	l->rule_topic = calloc((size_t)fields, sizeof(char *));
	if (!l->rule_type || !l->rule_topic) {
		return "out of memory";
	}
	l->username = strtok_r(line, "\t", &save);
	l->clientid = strtok_r(NULL, "\t", &save);
	hash = strtok_r(NULL, "\t", &save);
	if (!l->username || !l->clientid || !hash || !*l->username || !*l->clientid) {
		return "put needs a username, a client id and a password hash";
	}
	scheme = strtok_r(hash, "$", &key);
	iter = strtok_r(NULL, "$", &key);
	salt = strtok_r(NULL, "$", &key);
	if (!scheme || strcmp(scheme, HASH_SCHEME) || !iter || !salt || !key || !*key) {
		return "the password hash is not " HASH_SCHEME;
	}
	l->iterations = atoi(iter);
	l->salt_len = b64_decode(salt, l->salt, sizeof(l->salt));
	if (l->iterations < 1 || l->salt_len < 1 || b64_decode(key, l->key, sizeof(l->key)) != 64) {
		return "the password hash is malformed";
	}
	while ((field = strtok_r(NULL, "\t", &save)) != NULL) {
		if (l->rule_count == MAX_RULES) {
			return "too many rules";
		}
		if (!strchr("psrPSR", field[0]) || !field[0] || !field[1]) {
			return "a rule starts with p, s or r (P, S, R: deny) followed by a topic";
		}
		l->rule_type[l->rule_count] = field[0];
		l->rule_topic[l->rule_count++] = field + 1;
	}
	return NULL;
}

static bool has_rule(const struct login *l, char type, const char *topic)
{
	int i;
	for (i = 0; i < l->rule_count; i++) {
		if (l->rule_type[i] == type && !strcmp(l->rule_topic[i], topic)) {
			return true;
		}
	}
	return false;
}

/* Does `now` take a right away from `before`: an allow rule gone, or a deny rule added? */
static bool narrows(const struct login *before, const struct login *now)
{
	int i;
	for (i = 0; i < before->rule_count; i++) {
		if (islower((unsigned char)before->rule_type[i])
		    && !has_rule(now, before->rule_type[i], before->rule_topic[i])) {
			return true;
		}
	}
	for (i = 0; i < now->rule_count; i++) {
		if (isupper((unsigned char)now->rule_type[i])
		    && !has_rule(before, now->rule_type[i], now->rule_topic[i])) {
			return true;
		}
	}
	return false;
}

/* Apply a put (`rest` = everything after "put\t"). Returns an error message or NULL. */
static const char *apply_put(const char *rest)
{
	struct login *l = calloc(1, sizeof(*l)), *old;
	const char *error;
	bool changed = false;
	uint32_t h;
	if (!l || !(l->line = strdup(rest))) {
		free(l);
		return "out of memory";
	}
	error = parse_login(l->line, l); /* fields point into l->line */
	if (error) {
		free_login(l);
		return error;
	}
	old = find(l->username);
	if (old && (strcmp(old->clientid, l->clientid) || old->salt_len != l->salt_len
		    || memcmp(old->salt, l->salt, (size_t)l->salt_len) || memcmp(old->key, l->key, 64))) {
		changed = true; /* a new password or client id: cut connections made with the old */
	} else if (old) {
		l->used = old->used; /* the same password (new rights): still the login in use */
	}
	if (old && narrows(old, l)) {
		changed = true; /* fewer rights: nothing granted before (a subscription) outlives it */
	}
	remove_login(l->username);
	if (changed) {
		mosquitto_kick_client_by_username(l->username, false);
	}
	h = hash_name(l->username);
	l->next = table[h];
	table[h] = l;
	live_count++;
	return NULL;
}

/* Rebuild a login's journal line from its fields (the tokenised buffer). */
static void write_login(FILE *f, const struct login *l)
{
	int i;
	char salt[128], key[128];
	EVP_EncodeBlock((unsigned char *)salt, l->salt, l->salt_len);
	EVP_EncodeBlock((unsigned char *)key, l->key, 64);
	fprintf(f, "put\t%s\t%s\t%s$%d$%s$%s", l->username, l->clientid, HASH_SCHEME, l->iterations,
		salt, key);
	for (i = 0; i < l->rule_count; i++) {
		fprintf(f, "\t%c%s", l->rule_type[i], l->rule_topic[i]);
	}
	fputc('\n', f);
}

/* ---- compaction ----------------------------------------------------------------------------
 *
 * At start (before any client is served) the journal is rewritten compacted in the broker's
 * thread. While the broker runs, a compaction must not stop it: rewriting 11,000 logins took
 * 167 ms here (fsync 38 ms), a stall of every client. So it runs in a forked child: fork() gives
 * the child a copy-on-write snapshot of the table; the child writes and fsyncs it to
 * `<journal>.new` and reports on a pipe. The broker meanwhile appends every change to the OLD
 * journal as before and remembers the journal's size at the fork. When the child has reported
 * (polled from the tick event, about every 100 ms, never a SIGCHLD handler: the broker's own
 * signals stay as they are), the broker appends the old journal's lines written since the fork
 * to `<journal>.new` and renames it over the journal: one atomic step from "old journal, complete"
 * to "snapshot + every later line, complete" (then the child, which kept the old journal open,
 * is let go: the old file's release happens in it). A crash at any point before the rename leaves the
 * old journal whole (a stale `.new` is ignored and replaced at the next start); after it, the new
 * one. A child that fails (cannot write, disk full, killed) leaves the old journal untouched; the
 * failure is logged and retried after `retry_s`.
 *
 * Environment (read at start; tests and bench/mqtt.py only, defaults are production):
 *   POOLDESK_LOGINS_COMPACT_FACTOR    compact when the journal has more lines than FACTOR (4)
 *   POOLDESK_LOGINS_COMPACT_SLACK     times the live logins plus SLACK (10000)
 *   POOLDESK_LOGINS_COMPACT_RETRY_S   seconds before retrying a failed compaction (60)
 *   POOLDESK_LOGINS_COMPACT_CHILD_S   seconds a child may take before it is killed (600)
 *   POOLDESK_LOGINS_COMPACT_INLINE=1  compact in the broker's thread as before (A/B measurement)
 *   POOLDESK_LOGINS_TEST_CHILD_GATE   a path: the child, its snapshot written, waits while that
 *                                     file exists (tests freeze a compaction half-way)
 */
static long compact_factor = 4;
static long compact_slack = 10000;
static long retry_s = 60;
static long child_deadline_s = 600; /* a child that has not reported by then is killed */
static bool compact_inline;
static pid_t child_pid;   /* the compacting child, 0 if none */
static int child_pipe = -1; /* its report: "ok" or an error message, then EOF */
static int child_release = -1; /* closed when the child may end (see child_main) */
static off_t fork_size;   /* the journal's size when the child was forked */
static long fork_live;    /* logins in the child's snapshot */
static pid_t zombie_pid;  /* a child that reported but was not reaped yet */
static time_t retry_after; /* monotonic seconds */
static struct timespec fork_time;

static time_t mono_s(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec;
}

static void new_path(char *out, size_t cap)
{
	snprintf(out, cap, "%s.new", journal_path);
}

/* Write the table to `tmp` (created anew, 0600: password hashes) and fsync it. Returns the open
 * descriptor (for appending) or -1 with `error` set. */
static int write_snapshot(const char *tmp, char *error, size_t cap)
{
	unsigned i;
	struct login *l;
	FILE *f;
	int fd;
	unlink(tmp); /* a stale one from a crash, or someone's link: never followed */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(error, cap, "cannot create %s: %s", tmp, strerror(errno));
		return -1;
	}
	f = fdopen(dup(fd), "w");
	if (!f) {
		snprintf(error, cap, "cannot write %s: %s", tmp, strerror(errno));
		close(fd);
		return -1;
	}
	for (i = 0; i < BUCKETS; i++) {
		for (l = table[i]; l; l = l->next) {
			write_login(f, l);
		}
	}
	if (fflush(f) || ferror(f)) {
		snprintf(error, cap, "cannot write %s: %s", tmp, strerror(errno));
		fclose(f);
		close(fd);
		return -1;
	}
	fclose(f);
	return fd;
}

static int sync_or_fail(int fd, const char *tmp, char *error, size_t cap)
{
	if (fsync(fd)) {
		snprintf(error, cap, "cannot write %s to disk: %s", tmp, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static double ms_since(const struct timespec *start)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) * 1e3 + (double)(now.tv_nsec - start->tv_nsec) / 1e6;
}

/* Make a rename durable (at start only; while running, the backend fsyncs the folder when it sees
 * the journal replaced, pooldesk_server/broker/ramstore.py). */
static void sync_folder(void)
{
	char folder[4096], *slash;
	int fd;
	snprintf(folder, sizeof(folder), "%s", journal_path);
	slash = strrchr(folder, '/');
	if (!slash) {
		snprintf(folder, sizeof(folder), ".");
	} else if (slash == folder) {
		slash[1] = '\0';
	} else {
		*slash = '\0';
	}
	fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

/* In the broker's thread: at start, and with POOLDESK_LOGINS_COMPACT_INLINE. */
static int compact_now(void)
{
	char tmp[4096], error[4200];
	struct timespec began;
	int fd;
	clock_gettime(CLOCK_MONOTONIC, &began);
	new_path(tmp, sizeof(tmp));
	fd = write_snapshot(tmp, error, sizeof(error));
	if (fd >= 0) {
		fd = sync_or_fail(fd, tmp, error, sizeof(error));
	}
	if (fd < 0 || rename(tmp, journal_path)) {
		if (fd >= 0) {
			snprintf(error, sizeof(error), "cannot replace %s: %s", journal_path, strerror(errno));
			close(fd);
		}
		unlink(tmp);
		mosquitto_log_printf(MOSQ_LOG_ERR, "pooldesk_logins: %s", error);
		return MOSQ_ERR_UNKNOWN;
	}
	sync_folder();
	if (journal) {
		fclose(journal);
	}
	journal = fdopen(fd, "a");
	journal_lines = live_count;
	mosquitto_log_printf(MOSQ_LOG_NOTICE, "pooldesk_logins: compacted %s to %ld lines in %.0f ms, in the broker's thread",
			     journal_path, journal_lines, ms_since(&began));
	return journal ? MOSQ_ERR_SUCCESS : MOSQ_ERR_UNKNOWN;
}

/* In the child: drop every descriptor but the report pipe. A client's socket kept open here
 * would outlive the broker closing it (a revoked login's connection must end at once). */
static bool kept(int fd, const int *keep)
{
	return fd == keep[0] || fd == keep[1] || fd == keep[2];
}

static void close_inherited(const int *keep)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int fds[4096], n = 0, i;
	if (!d) {
		for (i = 3; i < 65536; i++) {
			if (!kept(i, keep)) close(i);
		}
		return;
	}
	while ((e = readdir(d)) != NULL && n < 4096) {
		int fd = atoi(e->d_name);
		if (e->d_name[0] != '.' && fd > 2 && !kept(fd, keep) && fd != dirfd(d)) {
			fds[n++] = fd;
		}
	}
	closedir(d);
	for (i = 0; i < n; i++) {
		close(fds[i]);
	}
	if (n == 4096) {
		close_inherited(keep); /* more than one batch */
	}
}

/* `report`: where to say "ok" or why not; `release`: closed by the broker once it swapped the
 * journal. Until then the child keeps the old journal open (`old`), so the last reference to the
 * old file, whose release frees its page cache and blocks (16-24 ms for 8.5 MB, measured), is
 * dropped here and not in the broker's thread. */
static void child_main(int report, int release, int old, pid_t broker)
{
	int keep[3] = {report, release, old};
	char byte;
	char tmp[4096], error[4200];
	const char *gate = getenv("POOLDESK_LOGINS_TEST_CHILD_GATE");
	int fd, sig[] = {SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, SIGPIPE};
	size_t i;
	for (i = 0; i < sizeof(sig) / sizeof(sig[0]); i++) {
		signal(sig[i], SIG_DFL); /* the broker's handlers would only set its flags */
	}
	prctl(PR_SET_PDEATHSIG, SIGKILL); /* the broker gone: nobody would use our file */
	if (getppid() != broker) {
		_exit(1); /* it died before the line above */
	}
	close_inherited(keep);
	/* The lowest priority short of SCHED_IDLE (which starves on a saturated machine: a
	 * compaction of 1,100 logins took seconds): the broker must not wait behind its own child. */
	(void)!nice(19);
	syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, 2 << 13 | 7 /* best effort, lowest */);
	new_path(tmp, sizeof(tmp));
	fd = write_snapshot(tmp, error, sizeof(error));
	while (fd >= 0 && gate && access(gate, F_OK) == 0) {
		usleep(10000);
	}
	if (fd >= 0) {
		fd = sync_or_fail(fd, tmp, error, sizeof(error));
	}
	if (fd < 0) {
		unlink(tmp);
		(void)!write(report, error, strlen(error));
		_exit(1);
	}
	(void)!write(report, "ok", 2);
	while (read(release, &byte, 1) < 0 && errno == EINTR) {
	}
	_exit(0);
}

static void start_failed(const char *what)
{
	mosquitto_log_printf(MOSQ_LOG_ERR, "pooldesk_logins: %s %s: %s; retrying in %ld s", what,
			     journal_path, strerror(errno), retry_s);
	retry_after = mono_s() + retry_s;
}

static void compact_start(void)
{
	struct timespec before_fork;
	struct stat st;
	int fds[2], release[2];
	pid_t pid, broker;
	if (child_pid || zombie_pid || !journal || mono_s() < retry_after) {
		return;
	}
	if (fflush(journal) || fstat(fileno(journal), &st) || pipe2(fds, O_CLOEXEC)) {
		start_failed("cannot start compacting");
		return;
	}
	if (pipe2(release, O_CLOEXEC)) {
		close(fds[0]);
		close(fds[1]);
		start_failed("cannot start compacting");
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &before_fork);
	broker = getpid();
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		close(release[1]);
		child_main(fds[1], release[0], fileno(journal), broker);
	}
	close(fds[1]);
	close(release[0]);
	if (pid < 0) {
		close(fds[0]);
		close(release[1]);
		start_failed("cannot fork to compact");
		return;
	}
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	child_pid = pid;
	child_pipe = fds[0];
	child_release = release[1];
	fork_size = st.st_size;
	fork_live = live_count;
	clock_gettime(CLOCK_MONOTONIC, &fork_time);
	mosquitto_log_printf(MOSQ_LOG_NOTICE, "pooldesk_logins: compacting %s (%ld lines, %ld logins) in process %d (forked in %.2f ms)",
			     journal_path, journal_lines, live_count, (int)pid, ms_since(&before_fork));
}

/* The child's snapshot is on disk: add what was journaled since the fork, then swap. Returns an
 * error message or NULL. Until the rename nothing the old journal holds has changed. */
static const char *compact_finish(char *error, size_t cap)
{
	char tmp[4096], buf[65536];
	long tail_lines = 0;
	int in, out;
	ssize_t n;
	off_t at = fork_size;
	new_path(tmp, sizeof(tmp));
	if (fflush(journal)) {
		snprintf(error, cap, "cannot write %s: %s", journal_path, strerror(errno));
		return error;
	}
	in = open(journal_path, O_RDONLY | O_CLOEXEC);
	out = open(tmp, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0 || out < 0) {
		snprintf(error, cap, "cannot open %s: %s", in < 0 ? journal_path : tmp, strerror(errno));
		goto fail;
	}
	while ((n = pread(in, buf, sizeof(buf), at)) > 0) {
		ssize_t i;
		for (i = 0; i < n; i++) {
			tail_lines += buf[i] == '\n';
		}
		if (write(out, buf, (size_t)n) != n) {
			snprintf(error, cap, "cannot write %s: %s", tmp, strerror(errno));
			goto fail;
		}
		at += n;
	}
	if (n < 0) {
		snprintf(error, cap, "cannot read %s: %s", journal_path, strerror(errno));
		goto fail;
	}
	/* The tail's lines were on disk in the old journal (the backend fsyncs it every second): they
	 * must be in the new one before the rename can replace the old, or a power cut after the
	 * rename could bring back a login deleted during the compaction. Only the tail: the
	 * snapshot was synced by the child. */
	if (at > fork_size && fdatasync(out)) {
		snprintf(error, cap, "cannot write %s to disk: %s", tmp, strerror(errno));
		goto fail;
	}
	if (rename(tmp, journal_path)) {
		snprintf(error, cap, "cannot replace %s: %s", journal_path, strerror(errno));
		goto fail;
	}
	close(in);
	fclose(journal);
	journal = fdopen(out, "a"); /* the new journal, opened before the rename: cannot fail to open */
	journal_lines = fork_live + tail_lines;
	return NULL;
fail:
	if (in >= 0) close(in);
	if (out >= 0) close(out);
	return error;
}

static void reap(void)
{
	if (zombie_pid && waitpid(zombie_pid, NULL, WNOHANG) != 0) {
		zombie_pid = 0;
	}
}

/* From the tick: has the child reported? */
static void compact_poll(void)
{
	char report[4300], error[4300];
	const char *failed = NULL;
	struct timespec swap_began;
	ssize_t n;
	reap();
	if (!child_pid) {
		return;
	}
	n = read(child_pipe, report, sizeof(report) - 1);
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		if (ms_since(&fork_time) < child_deadline_s * 1e3) {
			return; /* still writing */
		}
		/* Stuck (a disk that no longer answers?): without this, compaction would never be
		 * tried again and the journal would grow without end. */
		kill(child_pid, SIGKILL);
		n = 0;
		snprintf(report, sizeof(report), "gave up on process %d after %ld s", (int)child_pid, child_deadline_s);
		mosquitto_log_printf(MOSQ_LOG_ERR, "pooldesk_logins: compacting %s: %s", journal_path, report);
	}
	if (n >= 0) {
		report[n] = '\0';
	} else {
		report[0] = '\0';
	}
	close(child_pipe);
	child_pipe = -1;
	zombie_pid = child_pid;
	child_pid = 0;
	if (strcmp(report, "ok")) {
		failed = report[0] ? report : "the compacting process ended without a word (killed?)";
	} else {
		clock_gettime(CLOCK_MONOTONIC, &swap_began);
		failed = compact_finish(error, sizeof(error));
	}
	close(child_release); /* the child may end now, releasing the old journal */
	child_release = -1;
	if (failed) {
		char tmp[4096];
		new_path(tmp, sizeof(tmp));
		unlink(tmp);
		retry_after = mono_s() + retry_s;
		mosquitto_log_printf(MOSQ_LOG_ERR, "pooldesk_logins: compacting %s failed, the journal is unchanged; retrying in %ld s: %s",
				     journal_path, retry_s, failed);
		return;
	}
	mosquitto_log_printf(MOSQ_LOG_NOTICE, "pooldesk_logins: compacted %s to %ld lines in %.0f ms (swapped in %.2f ms)",
			     journal_path, journal_lines, ms_since(&fork_time), ms_since(&swap_began));
}

static void maybe_compact(void)
{
	if (journal_lines <= compact_factor * live_count + compact_slack) {
		return;
	}
	if (compact_inline) {
		compact_now();
	} else {
		compact_start();
	}
}

/* Append one change; NULL when it is in the journal, else why not (the command then answers
 * `error`, so the backend keeps the change pending and sends it again: a change the broker
 * applied but could not write down would be undone by the next restart). A line only partly
 * written (disk full) is cut off again, so the next one starts on a line of its own. */
static const char *journal_append(const char *verb, const char *rest)
{
	static char error[300];
	off_t before;
	if (!journal) {
		return "the journal is not open";
	}
	before = ftello(journal);
	if (fprintf(journal, "%s\t%s\n", verb, rest) < 0 || fflush(journal)) {
		snprintf(error, sizeof(error), "cannot write the journal: %s", strerror(errno));
		clearerr(journal);
		if (before >= 0 && ftruncate(fileno(journal), before)) {
			mosquitto_log_printf(MOSQ_LOG_ERR, "pooldesk_logins: %s; cutting it back failed too", error);
		}
		mosquitto_log_printf(MOSQ_LOG_ERR, "pooldesk_logins: %s", error);
		return error;
	}
	journal_lines++;
	maybe_compact();
	return NULL;
}

static int on_tick(int event, void *event_data, void *userdata)
{
	(void)event;
	(void)event_data;
	(void)userdata;
	compact_poll();
	maybe_compact(); /* a failed compaction is retried here, changes or not */
	return MOSQ_ERR_SUCCESS;
}

static void read_settings(void)
{
	const char *v;
	if ((v = getenv("POOLDESK_LOGINS_COMPACT_FACTOR")) && *v) {
		compact_factor = atol(v);
	}
	if ((v = getenv("POOLDESK_LOGINS_COMPACT_SLACK")) && *v) {
		compact_slack = atol(v);
	}
	if ((v = getenv("POOLDESK_LOGINS_COMPACT_RETRY_S")) && *v) {
		retry_s = atol(v);
	}
	if ((v = getenv("POOLDESK_LOGINS_COMPACT_CHILD_S")) && *v) {
		child_deadline_s = atol(v);
	}
	v = getenv("POOLDESK_LOGINS_COMPACT_INLINE");
	compact_inline = v && !strcmp(v, "1");
}

/* Reap `pid`, waiting at most about 2 s: a child stuck in the kernel on a dead disk must not hold
 * up the broker's shutdown (it is left to init then). */
static void wait_briefly(pid_t pid)
{
	int i;
	for (i = 0; i < 200; i++) {
		if (waitpid(pid, NULL, WNOHANG) != 0) {
			return;
		}
		usleep(10000);
	}
}

/* The broker is stopping: a child still writing is of no use (the next start compacts). */
static void compact_abandon(void)
{
	char tmp[4096];
	if (child_pid) {
		kill(child_pid, SIGKILL);
		wait_briefly(child_pid);
		close(child_pipe);
		close(child_release);
		child_pid = 0;
		child_pipe = child_release = -1;
		new_path(tmp, sizeof(tmp));
		unlink(tmp);
	}
	if (zombie_pid) {
		wait_briefly(zombie_pid);
		zombie_pid = 0;
	}
}

static void kick(const char *username)
{
	mosquitto_kick_client_by_username(username, false);
}

static void load_journal(void)
{
	FILE *f = fopen(journal_path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	if (!f) {
		return;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] != '\n') {
			/* The write of the last change was cut short (killed, power cut): a `put` cut
			 * short would replace the whole login with a partial one. Dropped; the start-up
			 * compaction that follows leaves it out of the file. */
			mosquitto_log_printf(MOSQ_LOG_WARNING, "pooldesk_logins: ignoring an unfinished last line in %s", journal_path);
			break;
		}
		line[--n] = '\0';
		if (!strncmp(line, "put\t", 4)) {
			apply_put(line + 4);
		} else if (!strncmp(line, "del\t", 4)) {
			remove_login(line + 4);
		}
	}
	free(line);
	fclose(f);
}

/* ---- authentication and ACLs ------------------------------------------------------------ */

static int on_basic_auth(int event, void *event_data, void *userdata)
{
	struct mosquitto_evt_basic_auth *ed = event_data;
	struct login *l = find(ed->username);
	const char *clientid;
	unsigned char key[64];
	(void)event;
	(void)userdata;
	if (!l) {
		return MOSQ_ERR_PLUGIN_DEFER;
	}
	clientid = mosquitto_client_id(ed->client);
	if (!ed->password || !clientid || strcmp(clientid, l->clientid)) {
		return MOSQ_ERR_AUTH;
	}
	if (!PKCS5_PBKDF2_HMAC(ed->password, (int)strlen(ed->password), l->salt, l->salt_len,
			       l->iterations, EVP_sha512(), sizeof(key), key)) {
		return MOSQ_ERR_AUTH;
	}
	if (CRYPTO_memcmp(key, l->key, sizeof(key))) {
		return MOSQ_ERR_AUTH;
	}
	l->used = ++logins_seen;
	return MOSQ_ERR_SUCCESS;
}

/* Does subscription `filter` lie within `pattern`? A `+` or `#` in the filter is only
 * allowed where the pattern has the same or a wider wildcard. */
static bool filter_within(const char *pattern, const char *filter)
{
	while (1) {
		const char *pe = strchr(pattern, '/'), *fe = strchr(filter, '/');
		size_t pl = pe ? (size_t)(pe - pattern) : strlen(pattern);
		size_t fl = fe ? (size_t)(fe - filter) : strlen(filter);
		if (pl == 1 && pattern[0] == '#') {
			return true;
		}
		if (pl == 1 && pattern[0] == '+') {
			if (fl == 1 && filter[0] == '#') {
				return false;
			}
		} else if (pl != fl || strncmp(pattern, filter, pl)) {
			return false;
		}
		if (!pe && !fe) {
			return true;
		}
		if (!fe) { /* filter ended: allowed only if the pattern's rest is exactly "#" */
			return !strcmp(pe + 1, "#");
		}
		if (!pe) {
			return false;
		}
		pattern = pe + 1;
		filter = fe + 1;
	}
}

static int on_acl_check(int event, void *event_data, void *userdata)
{
	struct mosquitto_evt_acl_check *ed = event_data;
	const char *username = mosquitto_client_username(ed->client);
	const struct login *l;
	char wanted;
	int i, pass;
	(void)event;
	(void)userdata;
	if (!strncmp(ed->topic, CONTROL_PREFIX, strlen(CONTROL_PREFIX))) {
		if (username && admin_name && !strcmp(username, admin_name)) {
			return MOSQ_ERR_SUCCESS;
		}
		return MOSQ_ERR_ACL_DENIED;
	}
	l = find(username);
	if (!l) {
		return MOSQ_ERR_PLUGIN_DEFER;
	}
	switch (ed->access) {
	case MOSQ_ACL_WRITE: wanted = RULE_PUB; break;
	case MOSQ_ACL_READ: wanted = RULE_RECV; break;
	case MOSQ_ACL_SUBSCRIBE: wanted = RULE_SUB; break;
	case MOSQ_ACL_UNSUBSCRIBE: return MOSQ_ERR_SUCCESS;
	default: return MOSQ_ERR_ACL_DENIED;
	}
	/* Deny rules first (upper case), then allow rules: the first match decides. */
	for (pass = 0; pass < 2; pass++) {
		char type = pass ? wanted : (char)toupper((unsigned char)wanted);
		for (i = 0; i < l->rule_count; i++) {
			bool match = false;
			if (l->rule_type[i] != type) {
				continue;
			}
			if (wanted == RULE_SUB) {
				match = filter_within(l->rule_topic[i], ed->topic);
			} else if (mosquitto_topic_matches_sub(l->rule_topic[i], ed->topic, &match) != MOSQ_ERR_SUCCESS) {
				match = false;
			}
			if (match) {
				return pass ? MOSQ_ERR_SUCCESS : MOSQ_ERR_ACL_DENIED;
			}
		}
	}
	return MOSQ_ERR_ACL_DENIED;
}

/* ---- control topic ------------------------------------------------------------------------- */

struct buf {
	char *data;
	size_t len, cap;
};

static void buf_add(struct buf *b, const char *s)
{
	size_t n = strlen(s);
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->cap ? b->cap * 2 : 256) + n;
		char *grown = realloc(b->data, cap);
		if (!grown) {
			return;
		}
		b->data = grown;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n + 1);
	b->len += n;
}

static void run_command(char *line, struct buf *out)
{
	const char *error = NULL;
	if (!strncmp(line, "put\t", 4)) {
		error = apply_put(line + 4);
		if (!error) {
			error = journal_append("put", line + 4);
		}
	} else if (!strncmp(line, "del\t", 4)) {
		/* Journaled even when the login is already gone: a retry after a failed write must
		 * still put the deletion on record. */
		remove_login(line + 4);
		error = journal_append("del", line + 4);
		kick(line + 4);
	} else if (!strcmp(line, "list")) {
		unsigned i;
		struct login *l;
		buf_add(out, "ok");
		for (i = 0; i < BUCKETS; i++) {
			for (l = table[i]; l; l = l->next) {
				buf_add(out, "\t");
				buf_add(out, l->username);
			}
		}
		buf_add(out, "\n");
		return;
	} else if (!strncmp(line, "used\t", 5)) {
		char *name, *save = NULL;
		buf_add(out, "ok");
		for (name = strtok_r(line + 5, "\t", &save); name; name = strtok_r(NULL, "\t", &save)) {
			const struct login *l = find(name);
			if (l && l->used) {
				char n[32];
				snprintf(n, sizeof(n), "=%llu", l->used);
				buf_add(out, "\t");
				buf_add(out, l->username);
				buf_add(out, n);
			}
		}
		buf_add(out, "\n");
		return;
	} else if (!strcmp(line, "ping")) {
		/* nothing to do */
	} else {
		error = "unknown command";
	}
	if (error) {
		buf_add(out, "error\t");
		buf_add(out, error);
		buf_add(out, "\n");
	} else {
		buf_add(out, "ok\n");
	}
}

static int on_control(int event, void *event_data, void *userdata)
{
	struct mosquitto_evt_control *ed = event_data;
	const char *username = mosquitto_client_username(ed->client);
	char *text, *line, *save = NULL;
	struct buf out = {0};
	(void)event;
	(void)userdata;
	if (!username || !admin_name || strcmp(username, admin_name)) {
		return MOSQ_ERR_ACL_DENIED;
	}
	text = malloc(ed->payloadlen + 1);
	if (!text) {
		return MOSQ_ERR_NOMEM;
	}
	memcpy(text, ed->payload, ed->payloadlen);
	text[ed->payloadlen] = '\0';
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "id\t", 3)) {
			buf_add(&out, line);
			buf_add(&out, "\n");
		} else {
			run_command(line, &out);
		}
	}
	free(text);
	if (out.data) {
		mosquitto_broker_publish_copy(mosquitto_client_id(ed->client), RESPONSE_TOPIC,
					      (int)out.len, out.data, 1, false, NULL);
		free(out.data);
	}
	return MOSQ_ERR_SUCCESS;
}

/* ---- plugin entry points ------------------------------------------------------------------ */

int mosquitto_plugin_version(int supported_version_count, const int *supported_versions)
{
	int i;
	for (i = 0; i < supported_version_count; i++) {
		if (supported_versions[i] == 5) {
			return 5;
		}
	}
	return -1;
}

int mosquitto_plugin_init(mosquitto_plugin_id_t *identifier, void **userdata,
			  struct mosquitto_opt *options, int option_count)
{
	int i;
	(void)userdata;
	plugin_id = identifier;
	for (i = 0; i < option_count; i++) {
		if (!strcmp(options[i].key, "journal")) {
			journal_path = strdup(options[i].value);
		} else if (!strcmp(options[i].key, "admin")) {
			admin_name = strdup(options[i].value);
		}
	}
	if (!journal_path || !admin_name) {
		mosquitto_log_printf(MOSQ_LOG_ERR, "pooldesk_logins: plugin_opt_journal and plugin_opt_admin are required");
		return MOSQ_ERR_INVAL;
	}
	read_settings();
	load_journal();
	if (compact_now() != MOSQ_ERR_SUCCESS) {
		return MOSQ_ERR_UNKNOWN;
	}
	if (mosquitto_callback_register(plugin_id, MOSQ_EVT_BASIC_AUTH, on_basic_auth, NULL, NULL)
	    || mosquitto_callback_register(plugin_id, MOSQ_EVT_ACL_CHECK, on_acl_check, NULL, NULL)
	    || mosquitto_callback_register(plugin_id, MOSQ_EVT_CONTROL, on_control, CONTROL_TOPIC, NULL)
	    || mosquitto_callback_register(plugin_id, MOSQ_EVT_TICK, on_tick, NULL, NULL)) {
		return MOSQ_ERR_UNKNOWN;
	}
	return MOSQ_ERR_SUCCESS;
}

int mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *options, int option_count)
{
	unsigned i;
	(void)userdata;
	(void)options;
	(void)option_count;
	mosquitto_callback_unregister(plugin_id, MOSQ_EVT_BASIC_AUTH, on_basic_auth, NULL);
	mosquitto_callback_unregister(plugin_id, MOSQ_EVT_ACL_CHECK, on_acl_check, NULL);
	mosquitto_callback_unregister(plugin_id, MOSQ_EVT_CONTROL, on_control, CONTROL_TOPIC);
	mosquitto_callback_unregister(plugin_id, MOSQ_EVT_TICK, on_tick, NULL);
	compact_abandon();
	if (journal) {
		fclose(journal);
		journal = NULL;
	}
	for (i = 0; i < BUCKETS; i++) {
		while (table[i]) {
			struct login *l = table[i];
			table[i] = l->next;
			free_login(l);
		}
	}
	live_count = 0;
	free(journal_path);
	free(admin_name);
	journal_path = admin_name = NULL;
	return MOSQ_ERR_SUCCESS;
}
