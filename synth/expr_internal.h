/* synth expr internals: the AST shared by the parser (expr_parse.c) and the
 * evaluator (expr.c). Not public: use synth/expr.h. */
#ifndef SYNTH_EXPR_INTERNAL_H
#define SYNTH_EXPR_INTERNAL_H

#include "synth/expr.h"

typedef enum {
  N_NUM, N_STR, N_BOOL, N_ANCHOR, N_DOC, N_VAR, N_CALL, N_GEN, N_LIST, N_LISTGEN,
  N_BIN, N_NEG, N_NOT, N_AND, N_OR, N_COND, N_INDEX
} node_kind;

typedef struct node {
  node_kind kind;
  int pos;           /* 0-based byte offset in the source */
  double num;        /* N_NUM, N_BOOL */
  int idx;           /* N_ANCHOR / N_DOC index */
  char name[32];     /* N_VAR, N_CALL function, N_GEN function, N_GEN/N_LISTGEN loop var */
  char op[3];        /* N_BIN */
  char *str;         /* N_STR */
  struct node **kids; /* N_CALL/N_LIST args; N_GEN/N_LISTGEN: elem, iter, filter|NULL; N_BIN l,r... */
  int nkids;
} node;

struct synth_expr {
  node *root;
  char *src;
};

#endif
