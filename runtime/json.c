/* A small JSON parser for config.json and state files. Input comes from possibly hostile
 * bundles, so size, depth and node count are bounded and every string is length-checked. */
#include "berth.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define JSON_MAX_SIZE (16u << 20)
#define JSON_MAX_DEPTH 64
#define JSON_MAX_NODES 500000

struct parser { const char *p, *end; int nodes; const char *err; };

static void ws(struct parser *ps) {
  while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')) ps->p++;
}

static struct jv *node(struct parser *ps, enum jtype t) {
  if (++ps->nodes > JSON_MAX_NODES) { ps->err = "too many values"; return NULL; }
  struct jv *v = calloc(1, sizeof *v);
  if (!v) { ps->err = "out of memory"; return NULL; }
  v->type = t;
  return v;
}

static int hex4(const char *s, unsigned *out) {
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    char c = s[i]; v <<= 4;
    if (c >= '0' && c <= '9') v |= c - '0';
    else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
    else return -1;
  }
  *out = v; return 0;
}

static char *parse_string(struct parser *ps) {
  if (ps->p >= ps->end || *ps->p != '"') { ps->err = "expected string"; return NULL; }
  ps->p++;
  size_t cap = 16, n = 0;
  char *out = malloc(cap);
  if (!out) { ps->err = "out of memory"; return NULL; }
  while (1) {
    if (ps->p >= ps->end) { ps->err = "unterminated string"; free(out); return NULL; }
    unsigned char c = (unsigned char)*ps->p++;
    char tmp[4]; size_t tn = 0;
    if (c == '"') break;
    if (c < 0x20) { ps->err = "control character in string"; free(out); return NULL; }
    if (c == '\\') {
      if (ps->p >= ps->end) { ps->err = "bad escape"; free(out); return NULL; }
      char e = *ps->p++;
      switch (e) {
      case '"': tmp[tn++] = '"'; break;
      case '\\': tmp[tn++] = '\\'; break;
      case '/': tmp[tn++] = '/'; break;
      case 'b': tmp[tn++] = '\b'; break;
      case 'f': tmp[tn++] = '\f'; break;
      case 'n': tmp[tn++] = '\n'; break;
      case 'r': tmp[tn++] = '\r'; break;
      case 't': tmp[tn++] = '\t'; break;
      case 'u': {
        unsigned cp;
        if (ps->end - ps->p < 4 || hex4(ps->p, &cp)) { ps->err = "bad \\u escape"; free(out); return NULL; }
        ps->p += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF && ps->end - ps->p >= 6 && ps->p[0] == '\\' && ps->p[1] == 'u') {
          unsigned lo;
          if (!hex4(ps->p + 2, &lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            ps->p += 6;
          }
        }
        if (cp == 0) { ps->err = "NUL in string"; free(out); return NULL; }
        if (cp < 0x80) tmp[tn++] = (char)cp;
        else if (cp < 0x800) { tmp[tn++] = (char)(0xC0 | (cp >> 6)); tmp[tn++] = (char)(0x80 | (cp & 0x3F)); }
        else if (cp < 0x10000) { tmp[tn++] = (char)(0xE0 | (cp >> 12)); tmp[tn++] = (char)(0x80 | ((cp >> 6) & 0x3F)); tmp[tn++] = (char)(0x80 | (cp & 0x3F)); }
        else { tmp[tn++] = (char)(0xF0 | (cp >> 18)); tmp[tn++] = (char)(0x80 | ((cp >> 12) & 0x3F)); tmp[tn++] = (char)(0x80 | ((cp >> 6) & 0x3F)); tmp[tn++] = (char)(0x80 | (cp & 0x3F)); }
        break;
      }
      default: ps->err = "bad escape"; free(out); return NULL;
      }
    } else tmp[tn++] = (char)c;
    if (n + tn + 1 > cap) {
      cap = cap * 2 + tn;
      char *nb = realloc(out, cap);
      if (!nb) { free(out); ps->err = "out of memory"; return NULL; }
      out = nb;
    }
    memcpy(out + n, tmp, tn); n += tn;
  }
  out[n] = 0;
  return out;
}

static struct jv *parse_value(struct parser *ps, int depth);

static struct jv *parse_container(struct parser *ps, int depth, int obj) {
  struct jv *v = node(ps, obj ? J_OBJ : J_ARR), **tail;
  if (!v) return NULL;
  tail = &v->child;
  ps->p++;
  ws(ps);
  if (ps->p < ps->end && *ps->p == (obj ? '}' : ']')) { ps->p++; return v; }
  while (1) {
    char *key = NULL;
    ws(ps);
    if (obj) {
      key = parse_string(ps);
      if (!key) goto bad;
      ws(ps);
      if (ps->p >= ps->end || *ps->p != ':') { free(key); ps->err = "expected ':'"; goto bad; }
      ps->p++;
    }
    struct jv *c = parse_value(ps, depth + 1);
    if (!c) { free(key); goto bad; }
    c->key = key;
    *tail = c; tail = &c->next;
    ws(ps);
    if (ps->p >= ps->end) { ps->err = "unexpected end"; goto bad; }
    if (*ps->p == ',') { ps->p++; continue; }
    if (*ps->p == (obj ? '}' : ']')) { ps->p++; return v; }
    ps->err = obj ? "expected ',' or '}'" : "expected ',' or ']'";
    goto bad;
  }
bad:
  json_free(v);
  return NULL;
}

static struct jv *parse_value(struct parser *ps, int depth) {
  if (depth > JSON_MAX_DEPTH) { ps->err = "nesting too deep"; return NULL; }
  ws(ps);
  if (ps->p >= ps->end) { ps->err = "unexpected end"; return NULL; }
  char c = *ps->p;
  if (c == '{' || c == '[') return parse_container(ps, depth, c == '{');
  if (c == '"') {
    char *s = parse_string(ps);
    if (!s) return NULL;
    struct jv *v = node(ps, J_STR);
    if (!v) { free(s); return NULL; }
    v->str = s; return v;
  }
  static const struct { const char *w; enum jtype t; int b; } lits[] = {{"true", J_BOOL, 1}, {"false", J_BOOL, 0}, {"null", J_NULL, 0}};
  for (unsigned i = 0; i < 3; i++) {
    size_t l = strlen(lits[i].w);
    if ((size_t)(ps->end - ps->p) >= l && !memcmp(ps->p, lits[i].w, l)) {
      ps->p += l;
      struct jv *v = node(ps, lits[i].t);
      if (v) v->boolean = lits[i].b;
      return v;
    }
  }
  if (c == '-' || (c >= '0' && c <= '9')) {
    const char *s = ps->p;
    while (ps->p < ps->end && strchr("+-0123456789.eE", *ps->p)) ps->p++;
    if (ps->p - s > 64) { ps->err = "number too long"; return NULL; }
    struct jv *v = node(ps, J_NUM);
    if (!v) return NULL;
    v->str = strndup(s, ps->p - s);
    return v;
  }
  ps->err = "unexpected character";
  return NULL;
}

struct jv *json_parse(const char *text, size_t len) {
  if (len > JSON_MAX_SIZE) { failx("document larger than %u bytes", JSON_MAX_SIZE); return NULL; }
  struct parser ps = {text, text + len, 0, NULL};
  struct jv *v = parse_value(&ps, 0);
  if (v) {
    ws(&ps);
    if (ps.p != ps.end) { json_free(v); v = NULL; ps.err = "trailing data"; }
  }
  if (!v) failx("invalid JSON at byte %ld: %s", (long)(ps.p - text), ps.err ? ps.err : "error");
  return v;
}

struct jv *json_load(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) { fail(errno, "open \"%s\"", path); return NULL; }
  struct stat sb;
  if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || sb.st_size > (off_t)JSON_MAX_SIZE) {
    close(fd); failx("\"%s\" is not a regular file below %u bytes", path, JSON_MAX_SIZE); return NULL;
  }
  char *buf = malloc(sb.st_size + 1);
  if (!buf) { close(fd); fail(ENOMEM, "read \"%s\"", path); return NULL; }
  size_t n = 0;
  while (n < (size_t)sb.st_size) {
    ssize_t r = read(fd, buf + n, sb.st_size - n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    n += r;
  }
  close(fd);
  struct jv *v = json_parse(buf, n);
  free(buf);
  if (!v) wrap("parse \"%s\"", path);
  return v;
}

void json_free(struct jv *v) {
  while (v) {
    struct jv *next = v->next;
    json_free(v->child);
    free(v->key); free(v->str); free(v);
    v = next;
  }
}

struct jv *jget(const struct jv *obj, const char *key) {
  if (!obj || obj->type != J_OBJ) return NULL;
  struct jv *found = NULL;
  for (struct jv *c = obj->child; c; c = c->next)
    if (c->key && !strcmp(c->key, key)) found = c; /* last one wins, like Go's decoder */
  return found;
}

struct jv *jpath(const struct jv *root, const char *dotted) {
  char buf[256]; snprintf(buf, sizeof buf, "%s", dotted);
  const struct jv *cur = root;
  for (char *save = NULL, *tok = strtok_r(buf, ".", &save); tok && cur; tok = strtok_r(NULL, ".", &save))
    cur = jget(cur, tok);
  return (struct jv *)cur;
}

const char *jstr(const struct jv *v, const char *def) { return v && v->type == J_STR ? v->str : def; }
long long jint(const struct jv *v, long long def) {
  if (!v || v->type != J_NUM) return def;
  char *end; errno = 0;
  long long n = strtoll(v->str, &end, 10);
  if (errno || *end) { double d = strtod(v->str, NULL); return (long long)d; }
  return n;
}
int jbool(const struct jv *v, int def) { return v && v->type == J_BOOL ? v->boolean : def; }
size_t jlen(const struct jv *v) {
  size_t n = 0;
  if (v && (v->type == J_ARR || v->type == J_OBJ)) for (struct jv *c = v->child; c; c = c->next) n++;
  return n;
}

void json_write_strn(FILE *f, const char *s, size_t n) {
  fputc('"', f);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    switch (c) {
    case '"': fputs("\\\"", f); break;
    case '\\': fputs("\\\\", f); break;
    case '\n': fputs("\\n", f); break;
    case '\r': fputs("\\r", f); break;
    case '\t': fputs("\\t", f); break;
    default:
      if (c < 0x20 || c == 0x7f) fprintf(f, "\\u%04x", c);
      else fputc(c, f);
    }
  }
  fputc('"', f);
}
void json_write_str(FILE *f, const char *s) { json_write_strn(f, s ? s : "", s ? strlen(s) : 0); }

void json_write(FILE *f, const struct jv *v) {
  if (!v) { fputs("null", f); return; }
  switch (v->type) {
  case J_NULL: fputs("null", f); break;
  case J_BOOL: fputs(v->boolean ? "true" : "false", f); break;
  case J_NUM: fputs(v->str, f); break;
  case J_STR: json_write_str(f, v->str); break;
  case J_ARR: case J_OBJ:
    fputc(v->type == J_ARR ? '[' : '{', f);
    for (struct jv *c = v->child; c; c = c->next) {
      if (c != v->child) fputc(',', f);
      if (v->type == J_OBJ) { json_write_str(f, c->key); fputc(':', f); }
      json_write(f, c);
    }
    fputc(v->type == J_ARR ? ']' : '}', f);
  }
}
