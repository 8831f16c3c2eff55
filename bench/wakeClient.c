// The measuring client of bench/wake.js, in C: N connections per server blocked in XREAD BLOCK 0 on one stream,
// one XADD, and the time until every connection has read its reply. A Node client spends about 10 µs of its own
// per socket read, so with 1,000 readers it measures itself as much as the server; epoll and read(2) here cost
// about 1 µs, so the figure is the server's. Servers are measured in alternating rounds, as in wake.js.
// Usage: wakeClient <clients> <rounds> <port>... (127.0.0.1 only); prints one line per port: the round times in ms.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int connect_to(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    perror("connect");
    exit(1);
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

static void send_all(int fd, const char *text) {
  size_t left = strlen(text);
  while (left > 0) {
    ssize_t n = write(fd, text, left);
    if (n <= 0) {
      perror("write");
      exit(1);
    }
    text += n;
    left -= (size_t)n;
  }
}

/** Sends a RESP command (argv NULL-terminated) on fd. */
static void command(int fd, const char **argv) {
  char buf[512];
  int argc = 0;
  while (argv[argc]) argc++;
  int at = snprintf(buf, sizeof buf, "*%d\r\n", argc);
  for (int i = 0; i < argc; i++) at += snprintf(buf + at, sizeof buf - at, "$%zu\r\n%s\r\n", strlen(argv[i]), argv[i]);
  send_all(fd, buf);
}

/** blocked_clients of INFO clients, read over the control connection. */
static long blocked_clients(int control) {
  const char *info[] = {"INFO", "clients", NULL};
  command(control, info);
  char buf[8192];
  size_t got = 0;
  for (;;) {
    ssize_t n = read(control, buf + got, sizeof buf - 1 - got);
    if (n <= 0) {
      perror("read INFO");
      exit(1);
    }
    got += (size_t)n;
    buf[got] = 0;
    // A bulk reply: "$<len>\r\n<text>\r\n"; wait for all of it.
    char *end = strstr(buf, "\r\n");
    if (end && got >= (size_t)(end - buf) + 2 + (size_t)atol(buf + 1) + 2) break;
  }
  char *field = strstr(buf, "blocked_clients:");
  return field ? atol(field + strlen("blocked_clients:")) : -1;
}

struct server {
  int port;
  int *readers;
  int writer;
  int control;
  char key[32];
  double *times;
};

static double round_once(struct server *s, int clients, int epfd, char *seen) {
  const char *xread[] = {"XREAD", "BLOCK", "0", "STREAMS", s->key, "$", NULL};
  for (int i = 0; i < clients; i++) command(s->readers[i], xread);
  double deadline = now_ms() + 10000;
  while (blocked_clients(s->control) < clients) {
    if (now_ms() > deadline) {
      fprintf(stderr, "port %d: clients did not all block\n", s->port);
      exit(1);
    }
    usleep(10000);
  }
  memset(seen, 0, (size_t)clients);
  for (int i = 0; i < clients; i++) {
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
    epoll_ctl(epfd, EPOLL_CTL_ADD, s->readers[i], &ev);
  }
  const char *xadd[] = {"XADD", s->key, "*", "k", "v", NULL};
  double t0 = now_ms();
  command(s->writer, xadd);
  int done = 0;
  struct epoll_event events[256];
  char buf[4096];
  while (done < clients) {
    int n = epoll_wait(epfd, events, 256, 10000);
    if (n <= 0) {
      fprintf(stderr, "port %d: only %d of %d replies\n", s->port, done, clients);
      exit(1);
    }
    for (int e = 0; e < n; e++) {
      int i = (int)events[e].data.u32;
      ssize_t got = read(s->readers[i], buf, sizeof buf);
      // A blocked XREAD's reply here is far smaller than one read; it ends in CRLF.
      if (got >= 2 && buf[got - 2] == '\r' && buf[got - 1] == '\n' && !seen[i]) {
        seen[i] = 1;
        done++;
        epoll_ctl(epfd, EPOLL_CTL_DEL, s->readers[i], NULL);
      }
    }
  }
  double elapsed = now_ms() - t0;
  char sink[4096];
  (void)!read(s->writer, sink, sizeof sink); // the XADD's own reply
  return elapsed;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s <clients> <rounds> <port>...\n", argv[0]);
    return 2;
  }
  int clients = atoi(argv[1]);
  int rounds = atoi(argv[2]);
  int nservers = argc - 3;
  struct server *servers = calloc((size_t)nservers, sizeof *servers);
  for (int s = 0; s < nservers; s++) {
    servers[s].port = atoi(argv[3 + s]);
    snprintf(servers[s].key, sizeof servers[s].key, "wake-%d", s);
    servers[s].readers = calloc((size_t)clients, sizeof(int));
    for (int i = 0; i < clients; i++) servers[s].readers[i] = connect_to(servers[s].port);
    servers[s].writer = connect_to(servers[s].port);
    servers[s].control = connect_to(servers[s].port);
    servers[s].times = calloc((size_t)rounds, sizeof(double));
  }
  int epfd = epoll_create1(0);
  char *seen = malloc((size_t)clients);
  for (int r = 0; r < rounds; r++)
    for (int s = 0; s < nservers; s++) servers[s].times[r] = round_once(&servers[s], clients, epfd, seen);
  for (int s = 0; s < nservers; s++) {
    for (int r = 0; r < rounds; r++) printf("%s%.3f", r ? " " : "", servers[s].times[r]);
    printf("\n");
  }
  return 0;
}
