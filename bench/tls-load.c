/*
 * Handshake load for `pnpm bench:edge` (scenarios 1 and 2), in C so the client costs far less CPU
 * than the servers it measures (a Node client took most of the two cores here).
 * Not wrk: wrk 4.1.0 keeps each connection's TLS session and resumes it when it reconnects.
 *
 *   tls-load ADDRESS PORT SNI SECONDS THREADS full|resumed
 *   tls-load ADDRESS PORT PATTERN SECONDS THREADS distinct COUNT
 *
 * Each thread opens connections one after another until SECONDS pass: TLS handshake with SNI,
 * one `GET /` with `Connection: close`, read to the end. `full` offers no session; `resumed`
 * offers, on every connection, the one session (TLS 1.3 ticket) of a first full handshake made
 * before the threads start, so every resumption uses a ticket issued by one server process.
 * `distinct` makes COUNT handshakes (and no request), the i-th with SNI = PATTERN's one %d
 * replaced by i, stopping early after SECONDS.
 * Prints {"connections":N,"resumed":N,"ok":N,"errors":N} (ok: answered 200, or for `distinct`
 * handshakes completed).
 * Certificates are not verified: this measures the server, the chain is checked elsewhere.
 * Build: gcc -O2 -o tls-load tls-load.c -lssl -lcrypto -lpthread
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static struct sockaddr_in server;
static const char *sni;
static SSL_CTX *ctx;
static SSL_SESSION *ticket;
static double deadline;
static char request[512];
static atomic_long connections, resumed, ok, errors;
static const char *pattern;
static long count;
static atomic_long next_index;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One connection: returns 1 when it got a 200; sets *was_resumed; keeps the session when asked. */
static int exchange(const char *name, int handshake_only, int *was_resumed, SSL_SESSION **keep) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct timeval tv = {10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (connect(fd, (struct sockaddr *)&server, sizeof server) != 0) {
    close(fd);
    return -1;
  }
  SSL *ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  SSL_set_tlsext_host_name(ssl, name);
  if (ticket) SSL_set_session(ssl, ticket);
  int status = -1;
  if (SSL_connect(ssl) == 1) {
    *was_resumed = SSL_session_reused(ssl);
    if (handshake_only) status = 1;
    else if (SSL_write(ssl, request, (int)strlen(request)) > 0) {
      char buf[4096];
      int n, first = 1;
      status = 0;
      while ((n = SSL_read(ssl, buf, sizeof buf - 1)) > 0) {
        if (first) {
          buf[n] = 0;
          status = strncmp(buf, "HTTP/1.1 200", 12) == 0 || strncmp(buf, "HTTP/1.0 200", 12) == 0;
          first = 0;
          /* TLS 1.3 tickets come after the handshake: they have been read by now. Taken before
             the end of the connection, which may not be a clean one. */
          if (keep) *keep = SSL_get1_session(ssl);
        }
      }
    }
    /* Without close_notify sent, SSL_free marks the session not resumable (ssl_clear_bad_session):
       the shared ticket would stop working for every thread. */
    SSL_shutdown(ssl);
  }
  SSL_free(ssl);
  close(fd);
  ERR_clear_error();
  return status;
}

static void *worker(void *unused) {
  (void)unused;
  char name[256];
  while (now() < deadline) {
    int was_resumed = 0;
    int status;
    if (pattern) {
      long i = atomic_fetch_add(&next_index, 1);
      if (i >= count) break;
      snprintf(name, sizeof name, pattern, i);
      status = exchange(name, 1, &was_resumed, NULL);
    } else status = exchange(sni, 0, &was_resumed, NULL);
    if (status < 0) {
      atomic_fetch_add(&errors, 1);
      continue;
    }
    atomic_fetch_add(&connections, 1);
    if (was_resumed) atomic_fetch_add(&resumed, 1);
    if (status == 1) atomic_fetch_add(&ok, 1);
    else atomic_fetch_add(&errors, 1);
  }
  return NULL;
}

int main(int argc, char **argv) {
  int distinct = argc == 8 && strcmp(argv[6], "distinct") == 0;
  if (!distinct && (argc != 7 || (strcmp(argv[6], "full") != 0 && strcmp(argv[6], "resumed") != 0))) {
    fprintf(stderr, "usage: tls-load ADDRESS PORT SNI SECONDS THREADS full|resumed\n"
                    "       tls-load ADDRESS PORT PATTERN SECONDS THREADS distinct COUNT\n");
    return 2;
  }
  if (distinct) {
    const char *d = strstr(argv[3], "%d");
    count = atol(argv[7]);
    if (!d || strchr(argv[3], '%') != d || strchr(d + 1, '%') || count < 1) {
      fprintf(stderr, "tls-load: distinct needs a PATTERN with exactly one %%d and a COUNT >= 1, got \"%s\" %s\n", argv[3], argv[7]);
      return 2;
    }
    pattern = "%ld";
    static char long_pattern[256];
    snprintf(long_pattern, sizeof long_pattern, "%.*s%%ld%s", (int)(d - argv[3]), argv[3], d + 2);
    pattern = long_pattern;
  }
  memset(&server, 0, sizeof server);
  server.sin_family = AF_INET;
  server.sin_port = htons((unsigned short)atoi(argv[2]));
  if (inet_pton(AF_INET, argv[1], &server.sin_addr) != 1) {
    fprintf(stderr, "tls-load: ADDRESS must be an IPv4 address, got \"%s\"\n", argv[1]);
    return 2;
  }
  sni = argv[3];
  double seconds = atof(argv[4]);
  int threads = atoi(argv[5]);
  if (seconds <= 0 || threads < 1 || threads > 1024) {
    fprintf(stderr, "tls-load: SECONDS must be > 0 and THREADS 1-1024\n");
    return 2;
  }
  snprintf(request, sizeof request, "GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", sni);
  ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
  /* Sessions are offered only as this program decides, never from a cache. */
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  /* A server closing without close_notify must not make the offered session unusable. */
  SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
  if (strcmp(argv[6], "resumed") == 0) {
    int was_resumed = 0;
    SSL_SESSION *first = NULL;
    if (exchange(sni, 0, &was_resumed, &first) != 1 || !first || !SSL_SESSION_is_resumable(first)) {
      fprintf(stderr, "tls-load: %s:%s (%s) gave no resumable session on a first full handshake\n", argv[1], argv[2], sni);
      return 1;
    }
    ticket = first;
  }
  deadline = now() + seconds;
  pthread_t *ids = calloc((size_t)threads, sizeof *ids);
  for (int i = 0; i < threads; i++) pthread_create(&ids[i], NULL, worker, NULL);
  for (int i = 0; i < threads; i++) pthread_join(ids[i], NULL);
  printf("{\"connections\":%ld,\"resumed\":%ld,\"ok\":%ld,\"errors\":%ld}\n", atomic_load(&connections), atomic_load(&resumed),
         atomic_load(&ok), atomic_load(&errors));
  return 0;
}
