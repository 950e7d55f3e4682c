/* skl judge: external JSON-lines command over a socketpair (no SIGPIPE),
 * polled against a deadline; or a dlopen'd plugin. Not thread-safe per handle.
 * Not a sandbox: the command runs with the trainer's rights. */
#define _GNU_SOURCE
#include "judge/judge.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "sys/sys.h"

struct skl_judge {
  skl_judge_opts o;
  char *target;
  pid_t pid;
  int fd;          /* our end of the socketpair */
  void *dl;
  skillrl_judge_score_fn fn;
  skl_buf in;      /* bytes read, not yet a full line */
};

static void stop_command(skl_judge *j) {
  if (j->fd >= 0) { close(j->fd); j->fd = -1; }
  if (j->pid > 0) {
    kill(-j->pid, SIGKILL);
    kill(j->pid, SIGKILL);
    waitpid(j->pid, NULL, 0);
    j->pid = 0;
  }
  skl_buf_clear(&j->in);
}

static skl_status start_command(skl_judge *j, skl_error *err) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    return skl_error_set(err, SKL_ERR_IO, "judge: socketpair: %s", strerror(errno));
  pid_t pid = fork();
  if (pid < 0) {
    close(sv[0]); close(sv[1]);
    return skl_error_set(err, SKL_ERR_IO, "judge: fork: %s", strerror(errno));
  }
  if (pid == 0) {
    setpgid(0, 0); /* its own group: a stop kills the shell and what it started */
    dup2(sv[1], 0);
    dup2(sv[1], 1);
    execl("/bin/sh", "sh", "-c", j->target, (char *)NULL);
    _exit(127);
  }
  setpgid(pid, pid);
  close(sv[1]);
  j->fd = sv[0];
  j->pid = pid;
  fcntl(j->fd, F_SETFL, fcntl(j->fd, F_GETFL) | O_NONBLOCK);
  return SKL_OK;
}

skl_status skl_judge_open(skl_judge **out, const skl_judge_opts *o, skl_error *err) {
  *out = NULL;
  if (!o->target || !o->target[0]) return skl_error_set(err, SKL_ERR_INVALID, "judge: no command or plugin given");
  skl_judge *j = calloc(1, sizeof *j);
  if (!j) return skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  j->o = *o;
  if (j->o.timeout_s <= 0) j->o.timeout_s = 60;
  j->fd = -1;
  j->target = strdup(o->target);
  if (!j->target) { free(j); return skl_error_set(err, SKL_ERR_NOMEM, "out of memory"); }
  skl_status s = SKL_OK;
  if (o->kind == SKL_JUDGE_PLUGIN) {
    j->dl = dlopen(o->target, RTLD_NOW | RTLD_LOCAL);
    if (!j->dl) {
      s = skl_error_set(err, SKL_ERR_IO, "judge plugin %s: cannot load: %s", o->target, dlerror());
    } else {
      skillrl_judge_abi_fn abi = (skillrl_judge_abi_fn)dlsym(j->dl, "skillrl_judge_abi");
      j->fn = (skillrl_judge_score_fn)dlsym(j->dl, "skillrl_judge_score");
      if (!abi || !j->fn)
        s = skl_error_set(err, SKL_ERR_INVALID,
                          "judge plugin %s: missing symbol %s (see src/judge/judge_plugin.h)", o->target,
                          abi ? "skillrl_judge_score" : "skillrl_judge_abi");
      else if (abi() != SKILLRL_JUDGE_ABI)
        s = skl_error_set(err, SKL_ERR_INVALID, "judge plugin %s: ABI %d, this skillrl speaks %d; rebuild it",
                          o->target, abi(), SKILLRL_JUDGE_ABI);
    }
  } else {
    s = start_command(j, err);
  }
  if (s) { skl_judge_close(j); return s; }
  *out = j;
  return SKL_OK;
}

/* One attempt at scoring the items not yet done[]. */
static skl_status command_round(skl_judge *j, const skillrl_judge_item *items, int n, double *scores,
                                char *done, skl_error *err) {
  skl_buf req = {0};
  int pending = 0;
  for (int i = 0; i < n; i++) {
    if (done[i]) continue;
    json_t *r = json_pack("{s:s, s:s, s:s, s:s}", "id", items[i].id ? items[i].id : "",
                          "question", items[i].question ? items[i].question : "", "response",
                          items[i].response ? items[i].response : "", "gold", items[i].gold ? items[i].gold : "");
    char *line = r ? json_dumps(r, JSON_COMPACT) : NULL;
    json_decref(r);
    if (!line || skl_buf_puts(&req, line) || skl_buf_puts(&req, "\n")) {
      free(line); skl_buf_free(&req);
      return skl_error_set(err, SKL_ERR_NOMEM, "judge: out of memory (or invalid UTF-8 in sample %s)", items[i].id);
    }
    free(line);
    pending++;
  }
  size_t sent = 0;
  double deadline = skl_time_now() + j->o.timeout_s;
  skl_status s = SKL_OK;
  while (pending > 0) {
    struct pollfd p = {.fd = j->fd, .events = POLLIN | (sent < req.len ? POLLOUT : 0)};
    double left = deadline - skl_time_now();
    int first = 0;
    while (first < n && done[first]) first++;
    if (left <= 0) {
      s = skl_error_set(err, SKL_ERR_IO, "judge '%s' hung: no answer for sample %s within %.0f s", j->target,
                        items[first].id, j->o.timeout_s);
      break;
    }
    int pr = poll(&p, 1, (int)(left * 1000) + 1);
    if (pr < 0 && errno == EINTR) continue;
    if (pr <= 0) continue;
    if ((p.revents & POLLOUT) && sent < req.len) {
      ssize_t w = send(j->fd, req.data + sent, req.len - sent, MSG_NOSIGNAL);
      if (w > 0) sent += (size_t)w;
      else if (w < 0 && errno != EAGAIN && errno != EINTR) {
        s = skl_error_set(err, SKL_ERR_IO, "judge '%s' crashed: it stopped reading before sample %s (%s)", j->target,
                          items[first].id, strerror(errno));
        break;
      }
    }
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      char chunk[65536];
      ssize_t r = read(j->fd, chunk, sizeof chunk);
      if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
        /* Its end of the socket is closed: reap it, but never past the
         * deadline: a judge that closes its pipes and sleeps (or a child
         * holding on) must not hold the run (issue 18). */
        int st = 0;
        pid_t w = 0;
        struct timespec nap = {0, 1000000};
        while ((w = waitpid(j->pid, &st, WNOHANG)) == 0 && skl_time_now() < deadline) nanosleep(&nap, NULL);
        kill(-j->pid, SIGKILL); /* the group: what the shell started goes too */
        if (w == 0) waitpid(j->pid, &st, 0);
        j->pid = 0;
        if (w == 0)
          s = skl_error_set(err, SKL_ERR_IO,
                            "judge '%s' hung: it closed its output but did not exit within %.0f s (before scoring "
                            "sample %s); killed",
                            j->target, j->o.timeout_s, items[first].id);
        else
          s = skl_error_set(err, SKL_ERR_IO, "judge '%s' crashed (%s %d) before scoring sample %s", j->target,
                            WIFSIGNALED(st) ? "signal" : "exit status",
                            WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st), items[first].id);
        break;
      }
      if (r < 0) continue;
      if (skl_buf_append(&j->in, chunk, (size_t)r)) { s = skl_error_set(err, SKL_ERR_NOMEM, "out of memory"); break; }
      char *nl;
      while (s == SKL_OK && (nl = memchr(j->in.data, '\n', j->in.len))) {
        size_t ll = (size_t)(nl - j->in.data);
        json_error_t je;
        json_t *a = json_loadb(j->in.data, ll, 0, &je);
        const char *id = a ? json_string_value(json_object_get(a, "id")) : NULL;
        json_t *sc = a ? json_object_get(a, "score") : NULL;
        int idx = -1;
        for (int i = 0; id && i < n; i++)
          if (!done[i] && items[i].id && !strcmp(items[i].id, id)) { idx = i; break; }
        if (!a || !id || !json_is_number(sc) || idx < 0) {
          s = skl_error_set(err, SKL_ERR_PARSE,
                            "judge '%s' answered garbage for sample %s: '%.*s' (expected {\"id\": ..., \"score\": 0-1} "
                            "for an id it was asked about)", j->target, id && idx >= 0 ? id : items[first].id,
                            (int)(ll > 200 ? 200 : ll), j->in.data);
        } else {
          double v = json_number_value(sc);
          if (!isfinite(v) || v < 0 || v > 1)
            s = skl_error_set(err, SKL_ERR_RANGE, "judge '%s' gave sample %s score %g, outside [0, 1]", j->target, id, v);
          else { scores[idx] = v; done[idx] = 1; pending--; }
        }
        json_decref(a);
        memmove(j->in.data, nl + 1, j->in.len - ll - 1);
        j->in.len -= ll + 1;
        j->in.data[j->in.len] = '\0';
      }
      if (s) break;
    }
  }
  skl_buf_free(&req);
  return s;
}

skl_status skl_judge_score(skl_judge *j, const skillrl_judge_item *items, int n, double *scores, skl_error *err) {
  if (j->fn) {
    for (int i = 0; i < n; i++) {
      char msg[512] = "";
      double v = -1;
      int rc = j->fn(&items[i], &v, msg, sizeof msg - 1);
      msg[sizeof msg - 1] = '\0'; /* a plugin that fills err without a NUL is cut, not overread */
      if (rc != 0)
        return skl_error_set(err, SKL_ERR_IO, "judge plugin %s failed on sample %s: %s", j->target, items[i].id, msg);
      if (!isfinite(v) || v < 0 || v > 1)
        return skl_error_set(err, SKL_ERR_RANGE, "judge plugin %s gave sample %s score %g, outside [0, 1]",
                             j->target, items[i].id, v);
      scores[i] = v;
    }
    return SKL_OK;
  }
  char *done = calloc((size_t)n + 1, 1);
  if (!done) return skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  skl_status s = SKL_OK;
  for (int attempt = 0; attempt <= j->o.retries; attempt++) {
    if (j->pid <= 0 && (s = start_command(j, err))) break;
    s = command_round(j, items, n, scores, done, err);
    if (s == SKL_OK || s == SKL_ERR_NOMEM) break;
    stop_command(j); /* crashed, hung or garbled: a fresh process for the retry */
  }
  free(done);
  if (s && j->o.retries > 0) skl_error_prefix(err, "judge gave up after %d retries", j->o.retries);
  return s;
}

void skl_judge_close(skl_judge *j) {
  if (!j) return;
  stop_command(j);
  if (j->dl) dlclose(j->dl);
  skl_buf_free(&j->in);
  free(j->target);
  free(j);
}
