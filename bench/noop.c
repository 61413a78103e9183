/* SPDX-License-Identifier: Apache-2.0 */
/* The baseline: a static process that does nothing. */
int main(void)
{
	return 0;
}
