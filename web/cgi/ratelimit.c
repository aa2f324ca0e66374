/* See ratelimit.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ratelimit.h"

int rate_key(const char *addr, char key[40])
{
	unsigned char a[16];
	if (!addr)
		return -1;
	if (inet_pton(AF_INET, addr, a) == 1) {
		snprintf(key, 40, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, a) == 1) {
		static const unsigned char v4mapped[12] = { 0,0,0,0,0,0,0,0,0,0,0xff,0xff };
		if (memcmp(a, v4mapped, 12) == 0) {
			snprintf(key, 40, "%u.%u.%u.%u", a[12], a[13], a[14], a[15]);
			return 0;
		}
		if (strchr(addr, ':') && memcmp(a, (unsigned char[16]){0}, 15) == 0 && a[15] == 1) {
			snprintf(key, 40, "::1");
			return 0;
		}
		snprintf(key, 40, "%02x%02x:%02x%02x:%02x%02x:%02x%02x::/64",
			 a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]);
		return 0;
	}
	return -1;
}

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	return h;
}

static rate_slot *find(rate_slot *tab, size_t n, const char *key, int64_t now)
{
	size_t start = (size_t)(fnv1a(key) % n);
	rate_slot *victim = NULL;
	for (size_t i = 0; i < RATE_PROBE && i < n; i++) {
		rate_slot *s = &tab[(start + i) % n];
		if (strncmp(s->key, key, sizeof(s->key)) == 0)
			return s;
		if (!victim || s->key[0] == 0 ||
		    (victim->key[0] != 0 && s->last_seen < victim->last_seen))
			victim = s;
	}
	if (!victim) /* n == 0: never, but then the first slot */
		victim = tab;
	memset(victim, 0, sizeof(*victim));
	snprintf(victim->key, sizeof(victim->key), "%s", key);
	victim->window_start = victim->fail_start = now;
	return victim;
}

int64_t rate_admit(rate_slot *tab, size_t n, const char *key, int64_t now)
{
	rate_slot *s = find(tab, n, key, now);
	s->last_seen = now;
	if (s->failures >= RATE_FAILURES && now - s->fail_start < RATE_FAIL_WINDOW)
		return RATE_FAIL_WINDOW - (now - s->fail_start);
	if (now - s->window_start >= RATE_WINDOW || now < s->window_start) {
		s->window_start = now;
		s->requests = 0;
	}
	if (s->requests >= RATE_REQUESTS)
		return RATE_WINDOW - (now - s->window_start);
	s->requests++;
	return 0;
}

void rate_failed(rate_slot *tab, size_t n, const char *key, int64_t now)
{
	rate_slot *s = find(tab, n, key, now);
	s->last_seen = now;
	if (now - s->fail_start >= RATE_FAIL_WINDOW || now < s->fail_start) {
		s->fail_start = now;
		s->failures = 0;
	}
	if (s->failures < UINT32_MAX)
		s->failures++;
}

/* The table mapped and locked; *fd to close (which unlocks). */
static rate_slot *open_table(const char *dir, int *fd)
{
	char path[4096];
	struct stat st;
	size_t size = sizeof(rate_slot) * RATE_SLOTS;
	if (snprintf(path, sizeof(path), "%s/rate", dir) >= (int)sizeof(path))
		return NULL;
	*fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (*fd < 0)
		return NULL;
	if (flock(*fd, LOCK_EX) != 0 || fstat(*fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_size != (off_t)size && ftruncate(*fd, (off_t)size) != 0)) {
		close(*fd);
		return NULL;
	}
	void *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
	if (m == MAP_FAILED) {
		close(*fd);
		return NULL;
	}
	return m;
}

static void close_table(rate_slot *tab, int fd)
{
	munmap(tab, sizeof(rate_slot) * RATE_SLOTS);
	close(fd);
}

int rate_admit_file(const char *dir, const char *key, int64_t now, int64_t *retry)
{
	int fd;
	rate_slot *tab = open_table(dir, &fd);
	if (!tab)
		return -1;
	*retry = rate_admit(tab, RATE_SLOTS, key, now);
	close_table(tab, fd);
	return 0;
}

int rate_failed_file(const char *dir, const char *key, int64_t now)
{
	int fd;
	rate_slot *tab = open_table(dir, &fd);
	if (!tab)
		return -1;
	rate_failed(tab, RATE_SLOTS, key, now);
	close_table(tab, fd);
	return 0;
}
