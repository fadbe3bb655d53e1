#!/usr/bin/python3
"""Reads what bench/vm/init wrote in each guest (one directory per vCPU count), checks
exactness, prints a table and writes the results as JSON. Relies only on trafstat's CLI
and JSON (docs/json.md), bpftool's JSON, gen's JSON and trafstat-bench's JSON: not on
the layout of the tables."""
import argparse
import json
import re
from pathlib import Path

TICKS_PER_S = 100  # USER_HZ of /proc/PID/stat on x86-64


def read(d, name, default=None):
    p = d / name
    return p.read_text() if p.exists() else default


def memory(d, name):
    """Locked kernel memory of trafstat's maps: those its process holds (where bpftool can
    tell the pids), else those that exist while it runs and did not before it started (the
    guest runs no other BPF user)."""
    maps_text, progs_text, pid = read(d, f"{name}.maps.json"), read(d, f"{name}.progs.json"), read(d, f"{name}.pid")
    if not maps_text or not progs_text or not pid:
        return {"error": (read(d, f"{name}.err", "") or "no output").strip()[-600:]}
    pid = int(pid)
    old_maps = {m["id"] for m in json.loads(read(d, "baseline.maps.json", "[]"))}
    old_progs = {p["id"] for p in json.loads(read(d, "baseline.progs.json", "[]"))}
    progs, maps = json.loads(progs_text), json.loads(maps_text)
    if any("pids" in o for o in progs + maps):
        held = lambda o: any(p.get("pid") == pid for p in o.get("pids", []))  # noqa: E731
        progs = [p for p in progs if held(p)]
        ids = {i for p in progs for i in p.get("map_ids", [])}
        maps = [m for m in maps if m["id"] in ids or held(m)]
    else:
        progs = [p for p in progs if p["id"] not in old_progs]
        maps = [m for m in maps if m["id"] not in old_maps]
    return {
        "bytes_memlock": sum(m.get("bytes_memlock", 0) for m in maps),
        "programs": sorted({p.get("name", "?") for p in progs}),
        "maps": sorted(
            (
                {
                    "name": m.get("name", ""),
                    "type": m["type"],
                    "max_entries": m["max_entries"],
                    "bytes_value": m["bytes_value"],
                    "bytes_memlock": m.get("bytes_memlock", 0),
                }
                for m in maps
            ),
            key=lambda m: -m["bytes_memlock"],
        ),
    }


def xdp_packets_per_queue(text):
    return {int(q): int(v) for q, v in re.findall(r"rx_queue_(\d+)_xdp_packets:\s*(\d+)", text or "")}


def xmit_errors(text):
    """Frames the sending veth's XDP_TX could not put into the peer's ring (full)."""
    return sum(int(v) for v in re.findall(r"tx_queue_\d+_xdp_xmit_errors:\s*(\d+)", text or ""))


def net_rx_per_cpu(text):
    for line in (text or "").splitlines():
        if line.strip().startswith("NET_RX:"):
            return [int(v) for v in line.split()[1:]]
    return []


def ndjson(text):
    return [json.loads(line) for line in (text or "").splitlines() if line.startswith("{")]


def reconciles(line):
    """docs/json.md: counted + overflow + unkeyed = ipv4 + ipv6, per interface and table, packets and bytes."""
    return all(
        t["counted"][k] + t["overflow"][k] + t["unkeyed"][k]
        == iface["classes"]["ipv4"][k] + iface["classes"]["ipv6"][k]
        for iface in line["interfaces"]
        for t in iface.get("tables", {}).values()
        for k in ("packets", "bytes")
    )


def exactness(d):
    lines = ndjson(read(d, "exact.out"))
    summary = next((line for line in lines if line["type"] == "summary"), None)
    gen = json.loads(read(d, "exact.gen.json", "null") or "null")
    if summary is None or gen is None:
        err = (read(d, "exact.err", "") or "") + (read(d, "exact.gen.err", "") or "")
        return {"error": err.strip()[-600:] or "no output"}
    before, after = xdp_packets_per_queue(read(d, "exact.before.ethtool")), xdp_packets_per_queue(
        read(d, "exact.after.ethtool")
    )
    per_queue = {q: after[q] - before.get(q, 0) for q in after}
    rx0, rx1 = net_rx_per_cpu(read(d, "exact.before.softirqs")), net_rx_per_cpu(read(d, "exact.after.softirqs"))
    net_rx = [b - a for a, b in zip(rx0, rx1)]
    link = lambda n: json.loads(read(d, n))[0]["stats64"]["rx"]["packets"]  # noqa: E731
    iface = summary["interfaces"][0]
    counted = summary["total"]["classes"]["all"]["packets"]
    delivered = sum(per_queue.values())
    drops = xmit_errors(read(d, "exact.after.sender.ethtool")) - xmit_errors(read(d, "exact.before.sender.ethtool"))
    intervals = [line for line in lines if line["type"] == "interval"]
    return {
        "sent": gen["packets"],
        "gen_threads": gen.get("threads"),
        "delivered_xdp": delivered,
        "ring_full_drops": drops,
        "link_rx_packets": link("exact.after.link.json") - link("exact.before.link.json"),
        "counted": counted,
        "exact": counted == delivered,
        "sent_is_delivered_plus_drops": delivered + drops == gen["packets"],
        "tables_reconcile": reconciles(summary) and all(reconciles(line) for line in intervals),
        "interval_lines": len(intervals),
        "distinct_keys": {name: t["entries"] for name, t in iface.get("tables", {}).items()},
        "overflow_packets": {name: t["overflow"]["packets"] for name, t in iface.get("tables", {}).items()},
        "queues_with_packets": sum(1 for v in per_queue.values() if v > 0),
        "cpus_with_net_rx": sum(1 for v in net_rx if v > 0),
        "xdp_packets_per_queue_min_max": [min(per_queue.values(), default=0), max(per_queue.values(), default=0)],
    }


def tc_fallback(d):
    """trafstat at TC ingress against what gen injected: the mode it chose and the counts."""
    summary = next((line for line in ndjson(read(d, "tc.out")) if line["type"] == "summary"), None)
    gen = json.loads(read(d, "tc.gen.json", "null") or "null")
    if summary is None or gen is None:
        return {"error": ((read(d, "tc.err", "") or "") + (read(d, "tc.gen.err", "") or "")).strip()[-600:]}
    iface = summary["interfaces"][0]
    counted = iface["classes"]["all"]["packets"]
    return {
        "mode": iface["mode"],
        "injected": gen["packets"],
        "counted": counted,
        "exact": counted == gen["packets"],
        "tables_reconcile": reconciles(summary),
    }


def cpu_case(d, name, intervals):
    marks = (read(d, f"{name}.cpu", "") or "").split("\n")
    marks = [m.split() for m in marks if m.strip()]
    if len(marks) != 2:
        return {"error": (read(d, f"{name}.err", "") or "no CPU marks").strip()[-600:]}
    (u0, s0, t0), (u1, s1, t1) = [(int(u), int(s), float(t)) for u, s, t in marks]
    cpu_s = (u1 + s1 - u0 - s0) / TICKS_PER_S
    wall_s = t1 - t0
    all_lines = ndjson(read(d, f"{name}.out"))
    summary = next((line for line in all_lines if line["type"] == "summary"), None)
    lines = [line for line in all_lines if line["type"] == "interval"][1 : intervals + 1]
    keys = [sum(t["entries"] for t in line["interfaces"][0].get("tables", {}).values()) for line in lines]
    capacity = sum(t["capacity"] for t in lines[0]["interfaces"][0].get("tables", {}).values()) if lines else None
    return {
        "intervals": intervals,
        "cpu_ms_per_interval": round(cpu_s * 1e3 / intervals, 2),
        "wall_ms_per_interval": round(wall_s * 1e3 / intervals, 1),
        "cpu_share": round(cpu_s / wall_s, 4) if wall_s > 0 else None,
        "entries_per_interval_mean": round(sum(keys) / len(keys)) if keys else None,
        "capacity_per_interval": capacity,
        "bursts_overlapping_a_drain": len((read(d, f"{name}.overlaps", "") or "").split()),
        "distinct_keys_since_start": (
            {n: t["entries"] for n, t in summary["interfaces"][0].get("tables", {}).items()} if summary else None
        ),
        "packets_per_interval_mean": (
            round(sum(line["total"]["classes"]["all"]["packets"] for line in lines) / len(lines)) if lines else None
        ),
    }


def guest(d, intervals):
    read_bench = json.loads(read(d, "read.json", "{}") or "{}").get("read")
    return {
        "vcpus": int(read(d, "cpus")),
        "kernel": read(d, "kernel").strip(),
        "mem_mb": int(read(d, "mem_mb")),
        "boot_s_guest_uptime_at_init": float(read(d, "boot_uptime")),
        "boot_s_host": json.loads(read(d, "host_boot_s")),
        "total_s_host": int(read(d, "host_total_s")),
        "errors": [e for e in (read(d, "errors", "") or "").splitlines() if e],
        "memory": {n: memory(d, n) for n in ("mem_default", "mem_flows_1m")},
        "exactness": exactness(d),
        "tc_ingress": tc_fallback(d) if (d / "tc.err").exists() else None,
        "drain_bench_read": read_bench or {"error": (read(d, "read.err", "") or "no output").strip()[-600:]},
        "drain_trafstat": {
            n: cpu_case(d, n, intervals)
            for n in ("cpu_idle", "cpu_flows", "cpu_idle_flows_1m")
            if (d / f"{n}.err").exists()
        },
    }


def mib(n):
    return f"{n / 2**20:,.1f} MiB"


def print_table(r):
    print(f"\n== {r['vcpus']} vCPUs, {r['kernel']}, {r['mem_mb']} MiB, TCG")
    print(f"boot to init: {r['boot_s_guest_uptime_at_init']:.1f} s guest uptime; whole run {r['total_s_host']} s")
    for e in r["errors"]:
        print(f"guest error: {e}")
    for name, m in r["memory"].items():
        what = {"mem_default": "--talkers --ports --flows", "mem_flows_1m": "--flows --flow-table-size 1048576"}[name]
        if "error" in m:
            print(f"memory  {what:<36} FAILED: {m['error']}")
        else:
            print(f"memory  {what:<36} {mib(m['bytes_memlock']):>14}  ({len(m['maps'])} maps, bpftool memlock)")
    x = r["exactness"]
    if "error" in x:
        print(f"exact   FAILED: {x['error']}")
    else:
        print(
            f"exact   sent {x['sent']}  dropped by the veth (ring full) {x['ring_full_drops']}"
            f"  delivered to XDP {x['delivered_xdp']}  counted {x['counted']}:"
            f" {'EXACT' if x['exact'] else 'MISMATCH'}; tables reconcile: {x['tables_reconcile']};"
            f" {x['queues_with_packets']} queues / {x['cpus_with_net_rx']} CPUs counted"
        )
    t = r["tc_ingress"]
    if t and "error" in t:
        print(f"tc      FAILED: {t['error']}")
    elif t:
        print(
            f"tc      tc-ingress ({t['mode']}): injected {t['injected']}  counted {t['counted']}:"
            f" {'EXACT' if t['exact'] else 'MISMATCH'}; tables reconcile: {t['tables_reconcile']}"
        )
    for row in r["drain_bench_read"] if isinstance(r["drain_bench_read"], list) else []:
        print(
            f"drain   trafstat-bench read {row['entries']:>8} keys ({row['map_slots']} slots):"
            f" {row['trafstat_cpu_ms']:.1f} ms CPU (mmap), {row['batch_cpu_ms']:.1f} ms (batch)"
        )
    if isinstance(r["drain_bench_read"], dict):
        print(f"drain   trafstat-bench read FAILED: {r['drain_bench_read']['error']}")
    for name, c in r["drain_trafstat"].items():
        if "error" in c:
            print(f"drain   {name:<18} FAILED: {c['error']}")
        else:
            print(
                f"drain   {name:<18} {c['cpu_ms_per_interval']:>8.1f} ms CPU per interval"
                f" ({100 * c['cpu_share']:.1f} % of a CPU), {c['entries_per_interval_mean']} entries"
                f" of {c['capacity_per_interval']} slots per interval"
                + (
                    f"; {c['bursts_overlapping_a_drain']} bursts overlapped a drain"
                    if c["bursts_overlapping_a_drain"]
                    else ""
                )
            )


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", required=True, help="write the results here")
    ap.add_argument("--intervals", type=int, default=20)
    ap.add_argument("dirs", nargs="+", type=Path)
    args = ap.parse_args()
    results = [guest(d, args.intervals) for d in args.dirs]
    for r in results:
        print_table(r)
    Path(args.json).write_text(json.dumps({"runs": results}, indent=2) + "\n")
    print(f"\nresults: {args.json}")
    bad = [r for r in results if "error" in r["exactness"] or not r["exactness"]["exact"]]
    bad += [r for r in results if r["tc_ingress"] and not r["tc_ingress"].get("exact")]
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
