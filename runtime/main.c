/* berth-runtime: executes one OCI bundle. Argument parsing only; work lives in the other files. */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
  if (argc > 1 && (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-v") == 0)) {
    printf("berth-runtime version 0.1.0\nspec: 1.2.0\n");
    return 0;
  }
  fprintf(stderr, "usage: berth-runtime [--root DIR] create|start|state|kill|delete|run|exec|pause|resume|ps|list ...\n");
  return 1;
}
