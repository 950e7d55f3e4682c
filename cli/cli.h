/* skl CLI: one entry point per subcommand, each in its own cmd_*.c.
 * The only place that knows every module; prints and picks exit codes. */
#ifndef SKL_CLI_H
#define SKL_CLI_H

/* Every command gets argv[0] = its own name ("synth", "bench", ...).
 * @return process exit code: 0 ok, 1 runtime failure, 2 usage error. */
int skl_cmd_synth(int argc, char **argv);
int skl_cmd_export(int argc, char **argv);
int skl_cmd_tokenizer(int argc, char **argv);
int skl_cmd_pretrain(int argc, char **argv);
int skl_cmd_sft(int argc, char **argv);
int skl_cmd_train(int argc, char **argv);
int skl_cmd_filter(int argc, char **argv);
int skl_cmd_eval(int argc, char **argv);
int skl_cmd_ablate(int argc, char **argv);
int skl_cmd_generate(int argc, char **argv);
int skl_cmd_model(int argc, char **argv);
int skl_cmd_mtp(int argc, char **argv);
int skl_cmd_bench(int argc, char **argv);
int skl_cmd_doctor(int argc, char **argv);
int skl_cmd_config(int argc, char **argv);

#endif
