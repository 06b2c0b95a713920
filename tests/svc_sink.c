// SPDX-License-Identifier: GPL-2.0
/*
 * svc_sink - a unix datagram receiver standing in for systemd's journal
 * socket or $NOTIFY_SOCKET in the test VM (which has no systemd).
 *
 *   svc_sink SOCKET DIR [SNAPSHOT]
 *
 * Binds SOCKET and writes datagram N (from 1) byte for byte to DIR/N. With
 * SNAPSHOT (a file such as /proc/bpf_oom/policies), a copy of it taken
 * when the datagram arrived goes to DIR/N.snap first: what was attached
 * when bpf-oom service said READY=1. Each file appears whole (written
 * under a temporary name, then renamed). Runs until killed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int write_file(const char *dir, const char *name, const char *buf, size_t len)
{
	char tmp[4096], path[4096];
	int fd;

	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, buf, len) != (ssize_t)len) {
		fprintf(stderr, "svc_sink: %s: %s\n", tmp, strerror(errno));
		return 1;
	}
	close(fd);
	if (rename(tmp, path)) {
		fprintf(stderr, "svc_sink: rename %s: %s\n", path, strerror(errno));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	static char buf[256 * 1024], snap[64 * 1024];
	char name[64];
	unsigned long n = 0;
	ssize_t len, slen;
	int fd, sfd;

	if (argc < 3 || argc > 4 || strlen(argv[1]) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "usage: svc_sink SOCKET DIR [SNAPSHOT]\n");
		return 2;
	}
	strcpy(addr.sun_path, argv[1]);
	unlink(argv[1]);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		fprintf(stderr, "svc_sink: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	for (;;) {
		len = recv(fd, buf, sizeof(buf), 0);
		if (len < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "svc_sink: recv: %s\n", strerror(errno));
			return 1;
		}
		n++;
		if (argc == 4) {
			sfd = open(argv[3], O_RDONLY | O_CLOEXEC);
			slen = sfd < 0 ? 0 : read(sfd, snap, sizeof(snap));
			if (sfd >= 0)
				close(sfd);
			snprintf(name, sizeof(name), "%lu.snap", n);
			if (write_file(argv[2], name, snap, slen > 0 ? slen : 0))
				return 1;
		}
		snprintf(name, sizeof(name), "%lu", n);
		if (write_file(argv[2], name, buf, len))
			return 1;
	}
}
