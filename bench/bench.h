/* skillrl bench modes: timed runs of the engine and the layers above it,
 * each printing ONE JSON line on stdout. Not the dispatcher (cli/cmd_bench.c). */
#ifndef SKL_BENCH_H
#define SKL_BENCH_H

/* Each mode gets argv[0] = its name ("train", ...).
 * @return process exit code: 0 ok, 1 runtime failure, 2 usage error. */
int skl_bench_tokenize(int argc, char **argv);
int skl_bench_train(int argc, char **argv);
int skl_bench_decode(int argc, char **argv);
int skl_bench_synth(int argc, char **argv);
int skl_bench_sgemm(int argc, char **argv);

#endif
