# SPDX-License-Identifier: GPL-2.0
#
# demo.sh - the main job, shown: the same memcg OOM, decided by the stock
# OOM killer and by the sample policy bpf/oom_largest_leaf (run in the VM by
# scripts/demo.sh).
insmod /bpf-oom/bpf_oom.ko || exit 1

victims() {
	dmesg | tail -n +$1 | grep -E "oom_policy=|oom-kill:|Killed process" |
		sed -e 's/^\[[ 0-9.]*\] //' -e 's/,nodemask=.*task_memcg=/ ... task_memcg=/' | head -n 4
}

cat <<'TXT'
Topology (upstream's OOM test): /oom_test has memory.max 80 MiB and holds
  cg1      10 MiB, oom_score_adj +1000
  cg2      40 MiB, oom_score_adj -1000
  cg3/cg4  30 MiB
  cg3/cg5  20 MiB, allocated last: it runs /oom_test out of memory
TXT

echo
echo "=== 1. the stock kernel OOM killer (module loaded, no policy attached)"
m=$(($(dmesg | wc -l) + 1))
/bpf-oom/tests/oom_ops oom_stock_victim_without_policy
victims $m

echo
echo "=== 2. with bpf/oom_largest_leaf attached (kill the largest leaf cgroup"
echo "       by usage - page cache that has no -1000 task)"
m=$(($(dmesg | wc -l) + 1))
/bpf-oom/tests/oom_ops oom_upstream_scenario
victims $m

echo
echo "The stock killer picked cg1 (oom_score_adj +1000); the policy picked cg3/cg4,"
echo "and its name stands next to the kernel's own OOM report."
