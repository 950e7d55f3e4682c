/* Tests for rl/pack: placement, positions, document ids, masks, cutting and
 * dropping. Not a model test. */
#include "harness.h"
#include "rl/pack.h"

int main(void) {
  int32_t p1[3] = {1, 2, 3}, r1[2] = {4, 5};
  int32_t p2[4] = {6, 7, 8, 9}, r2[1] = {10};
  int32_t p3[9] = {11, 12, 13, 14, 15, 16, 17, 18, 19}, r3[2] = {20, 21};
  rl_pack_item items[3] = {{p1, 3, r1, 2}, {p2, 4, r2, 1}, {p3, 9, r3, 2}};
  rl_packed pk;
  skl_error e;
  CHECK(rl_packed_init(&pk, 2, 8, 3, &e) == SKL_OK);
  int cut, dropped;
  CHECK(rl_pack(&pk, items, 3, &cut, &dropped, &e) == SKL_OK);
  /* item 0: 4 inputs in row 0 cols 0-3; item 1: 4 inputs in row 0 cols 4-7;
   * item 2: 10 inputs cut to 8 (drop 2 prompt tokens) in row 1 */
  CHECK(pk.row_of[0] == 0 && pk.col_of[0] == 0);
  CHECK(pk.row_of[1] == 0 && pk.col_of[1] == 4);
  CHECK(pk.row_of[2] == 1 && cut == 1 && dropped == 0);
  int32_t want_tok0[8] = {1, 2, 3, 4, 6, 7, 8, 9}, want_tgt0[8] = {2, 3, 4, 5, 7, 8, 9, 10};
  float want_mask0[8] = {0, 0, 1, 1, 0, 0, 0, 1};
  int32_t want_pos0[8] = {0, 1, 2, 3, 0, 1, 2, 3}, want_doc0[8] = {0, 0, 0, 0, 1, 1, 1, 1};
  int ok = 1;
  for (int i = 0; i < 8; i++)
    ok &= pk.tokens[i] == want_tok0[i] && pk.targets[i] == want_tgt0[i] && pk.mask[i] == want_mask0[i] &&
          pk.pos[i] == want_pos0[i] && pk.doc[i] == want_doc0[i];
  CHECK(ok);
  int32_t want_tok1[8] = {13, 14, 15, 16, 17, 18, 19, 20};
  ok = 1;
  for (int i = 0; i < 8; i++) ok &= pk.tokens[8 + i] == want_tok1[i];
  CHECK(ok);
  CHECK(pk.targets[15] == 21 && pk.mask[15] == 1 && pk.mask[14] == 1 && pk.mask[13] == 0);
  /* no room left: a fourth item is dropped */
  rl_pack_item more[4] = {items[0], items[1], items[2], items[0]};
  rl_packed_free(&pk);
  CHECK(rl_packed_init(&pk, 2, 8, 4, &e) == SKL_OK);
  CHECK(rl_pack(&pk, more, 4, &cut, &dropped, &e) == SKL_OK);
  CHECK(dropped == 1 && pk.row_of[3] == -1);
  /* a response that cannot fit */
  int32_t big[9] = {0};
  rl_pack_item huge = {p1, 1, big, 9};
  CHECK(rl_pack(&pk, &huge, 1, &cut, &dropped, &e) == SKL_ERR_RANGE);
  CHECK_CONTAINS(e.msg, "a response of 9 tokens does not fit a row of 8");
  rl_packed_free(&pk);
  rl_packed_free(&pk);
  return test_report();
}
