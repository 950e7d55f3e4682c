/* Tests for rl/pretrain's pure schedules: row length per step (the
 * induction-first stage, then the quadratic length curriculum), rows per
 * step, when the stage ends, and the learning rate (flat through the stage,
 * cosine over the steps left). Not the loop (tests/train/test_pretrain.sh). */
#include <math.h>

#include "harness.h"
#include "rl/pretrain.h"

static rl_train_cfg cfg(void) {
  rl_train_cfg c;
  memset(&c, 0, sizeof c);
  c.pt_steps = 100;
  c.pt_tokens = 4096;
  c.pt_seq_start = 256;
  c.pt_seq = 1280;
  c.pt_curriculum = 0.5;
  c.pt_induction_steps = 60;
  c.pt_induction_seq = 128;
  c.pt_induction_until = 0.6;
  return c;
}

static void test_seq(void) {
  rl_train_cfg c = cfg();
  CHECK(rl_pt_seq_at(&c, 0, RL_PT_INDUCTION, -1) == 128);
  CHECK(rl_pt_seq_at(&c, 55, RL_PT_INDUCTION, -1) == 128);
  /* mixture from step 40: span 0.5 * 60 = 30 steps, quadratic, multiples of 32 */
  CHECK(rl_pt_seq_at(&c, 40, RL_PT_MIXTURE, 40) == 256);
  int prev = 0;
  for (int s = 40; s < 100; s++) {
    int T = rl_pt_seq_at(&c, s, RL_PT_MIXTURE, 40);
    CHECK(T % 32 == 0 && T >= prev && T >= 256 && T <= 1280);
    prev = T;
  }
  CHECK(rl_pt_seq_at(&c, 70, RL_PT_MIXTURE, 40) == 1280);
  /* half-way through the span: 256 + 1024 / 4 = 512 (quadratic, not 768) */
  CHECK(rl_pt_seq_at(&c, 55, RL_PT_MIXTURE, 40) == 512);
  c.pt_curriculum = 0;
  CHECK(rl_pt_seq_at(&c, 40, RL_PT_MIXTURE, 40) == 1280);
  c.pt_lookup_seq = 192; /* the lookup stage: its own length, whatever the step */
  CHECK(rl_pt_seq_at(&c, 30, RL_PT_LOOKUP, -1) == 192);
  /* the stage of a state */
  rl_run_state st = {.stage_step = -1, .lookup_step = -1};
  CHECK(rl_pt_stage_of(&st) == RL_PT_INDUCTION);
  st.lookup_step = 30;
  CHECK(rl_pt_stage_of(&st) == RL_PT_LOOKUP);
  st.stage_step = 50;
  CHECK(rl_pt_stage_of(&st) == RL_PT_MIXTURE);
}

static void test_rows(void) {
  rl_train_cfg c = cfg();
  CHECK(rl_pt_rows_at(&c, 128, 1) == 32);
  CHECK(rl_pt_rows_at(&c, 1280, 1) == 3);
  CHECK(rl_pt_rows_at(&c, 1280, 2) == 2); /* a multiple of the ranks */
  CHECK(rl_pt_rows_at(&c, 8192, 4) == 4); /* at least one per rank */
}

static void test_stage(void) {
  rl_train_cfg c = cfg();
  CHECK(!rl_pt_stage_ends(&c, 10, 0.3));
  CHECK(rl_pt_stage_ends(&c, 10, 0.6));
  CHECK(!rl_pt_stage_ends(&c, 10, NAN)); /* no repeat rows measured */
  CHECK(rl_pt_stage_ends(&c, 59, 0.0)); /* the cap */
  c.pt_induction_until = 0;
  CHECK(!rl_pt_stage_ends(&c, 10, 0.99));
  /* the lookup stage from step 30: at lookup_until, or after lookup_steps in it */
  c.pt_lookup_steps = 20;
  c.pt_lookup_until = 0.8;
  CHECK(!rl_pt_lookup_ends(&c, 30, 35, 0.6));
  CHECK(rl_pt_lookup_ends(&c, 30, 35, 0.8));
  CHECK(!rl_pt_lookup_ends(&c, 30, 35, NAN));
  CHECK(!rl_pt_lookup_ends(&c, 30, 48, 0.1));
  CHECK(rl_pt_lookup_ends(&c, 30, 49, 0.1)); /* its 20th step */
  c.pt_lookup_until = 0;
  CHECK(!rl_pt_lookup_ends(&c, 30, 40, 1.0));
}

static void test_lr(void) {
  skl_adamw_config a = {.lr = 1e-3, .warmup_steps = 10, .total_steps = 100, .min_lr_ratio = 0.1};
  CHECK_NEAR(rl_pt_lr_at(&a, 4, -1), 0.5e-3, 1e-12);  /* warm-up */
  CHECK_NEAR(rl_pt_lr_at(&a, 80, -1), 1e-3, 1e-12);   /* flat in the stage, even past total */
  CHECK_NEAR(rl_pt_lr_at(&a, 40, 40), 1e-3, 1e-12);   /* the cosine starts at the peak */
  CHECK_NEAR(rl_pt_lr_at(&a, 70, 40), 0.55e-3, 1e-9); /* half-way over the 60 steps left */
  CHECK_NEAR(rl_pt_lr_at(&a, 100, 40), 1e-4, 1e-12);
  /* no stage: the plain schedule */
  for (int s = 0; s < 100; s += 7) CHECK_NEAR(rl_pt_lr_at(&a, s, 0), skl_lr_at(&a, s), 1e-15);
  /* a stage ending inside the warm-up keeps the warm-up */
  CHECK_NEAR(rl_pt_lr_at(&a, 5, 3), skl_lr_at(&a, 5), 1e-15);
}

int main(void) {
  test_seq();
  test_rows();
  test_stage();
  test_lr();
  printf("%d passed, %d failed\n", t_pass, t_fail);
  return t_fail != 0;
}
