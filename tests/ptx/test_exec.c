/* test_exec.c — placeholder, filled below. */
#include "ptx_util.h"
RG_TEST(placeholder) {}
RG_TEST_MAIN()
