/* Mutation fuzzer for berth-runtime's JSON parser: `make -C runtime fuzz` builds it with
 * AddressSanitizer and UBSan and runs 200 000 mutations of a seed config.json (argv[1]). The
 * parser reads hostile bundles, so it must never crash, leak or read out of bounds. */
#include "../berth.h"
#include <stdlib.h>
#include <string.h>

static char seed[1 << 20], buf[1 << 20];

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: json-fuzz SEED.json [ITERATIONS]\n"); return 2; }
  FILE *f = fopen(argv[1], "rb");
  if (!f) { perror(argv[1]); return 2; }
  size_t n = fread(seed, 1, sizeof seed, f);
  fclose(f);
  long iterations = argc > 2 ? atol(argv[2]) : 200000;
  static const char *tokens[] = {"\\u", "\\ud800", "\\udc00", "\"", "[", "{", "}", "]", ",", ":", "-", "1e9999", "\\", "null", "0x1"};
  srand(1);
  for (long it = 0; it < iterations; it++) {
    size_t len = n;
    memcpy(buf, seed, n);
    for (int m = 1 + rand() % 8; m > 0; m--) {
      size_t pos = len ? (size_t)rand() % len : 0;
      switch (rand() % 4) {
      case 0: buf[pos] = (char)rand(); break;
      case 1: len = pos; break;
      case 2: {
        const char *t = tokens[rand() % (sizeof tokens / sizeof tokens[0])];
        size_t tl = strlen(t);
        if (len + tl < sizeof buf) { memmove(buf + pos + tl, buf + pos, len - pos); memcpy(buf + pos, t, tl); len += tl; }
        break;
      }
      default: buf[pos] = "{}[]\",:\\"[rand() % 8];
      }
    }
    struct jv *v = json_parse(buf, len);
    if (v) {
      jint(jpath(v, "process.user.uid"), 0);
      jstr(jpath(v, "root.path"), "");
      FILE *out = fopen("/dev/null", "w");
      json_write(out, v);
      fclose(out);
      json_free(v);
    }
  }
  printf("json-fuzz: %ld mutations parsed without a fault\n", iterations);
  return 0;
}
