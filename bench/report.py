#!/usr/bin/env python3
"""Turns bench/run.sh's raw results.csv into RESULTS.md and the gnuplot chart.

usage: report.py RESULTS_DIR [VSOCK_CSV]

RESULTS_DIR holds results.csv (test,relay,case,rep,metric,value) and
machine.txt; RESULTS.md, throughput.dat, vsock.dat and throughput.gp are
written there. VSOCK_CSV, when given, is what bench/vsock.sh measured inside
the QEMU guest: the same columns, test "vsock", relays direct, hvrelay,
hvrelay-nosplice and socat (the last three: pairs tcp -> vsock -> tcp),
cases P1-up and P1-down, metrics gbps, bytes and cpu_s (both relays of a
pair); the guest's description is read from the .txt file beside it.
"""
import csv
import os
import statistics
import sys
from collections import defaultdict

RELAYS = ["direct", "hvrelay", "socat", "haproxy", "rinetd"]
PEERS = ["socat", "haproxy", "rinetd"]
VSOCK_SETS = [
    ("direct", "direct (no relay)"),
    ("hvrelay", "hvrelay pair"),
    ("hvrelay-nosplice", "hvrelay pair, splice = no"),
    ("socat", "socat pair"),
]
VSOCK_CASES = [("P1-up", "upload"), ("P1-down", "download (-R)")]
VSOCK_TARGET = 1.5
TP_CASES = [
    ("P1-up", "1 stream"),
    ("P1-down", "1 stream, -R"),
    ("P8-up", "8 streams"),
    ("P8-down", "8 streams, -R"),
]
LAT_CASES = [("1B", "1 B"), ("4KiB", "4 KiB")]
PINNED_CASES = [("1B-cpu0", "1 B"), ("4KiB-cpu0", "4 KiB")]
GIB = float(1 << 30)


def load(path):
    """{(test, relay, case, metric): [values]} and the raw rows."""
    data = defaultdict(list)
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            try:
                value = float(row["value"])
            except ValueError:
                continue
            key = (row["test"], row["relay"], row["case"], row["metric"])
            data[key].append(value)
    return data


def load_reps(path, test, metric):
    """{(relay, case, rep): value} of one test's metric."""
    values = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            if row["test"] != test or row["metric"] != metric:
                continue
            try:
                values[(row["relay"], row["case"], row["rep"])] = \
                    float(row["value"])
            except ValueError:
                continue
    return values


def paired_ratio(by_rep, a, b, case):
    """Median over repetitions of a/b, each taken seconds apart: steadier
    than a ratio of medians when the load on the host drifts during a run."""
    ratios = [v / by_rep[(b, c, r)] for (x, c, r), v in by_rep.items()
              if x == a and c == case and by_rep.get((b, c, r))]
    return statistics.median(ratios) if ratios else None


def median(data, test, relay, case, metric):
    values = data.get((test, relay, case, metric))
    if not values:
        return None
    return statistics.median(values)


def total(data, test, relay, case, metric):
    values = data.get((test, relay, case, metric))
    if not values:
        return None
    return sum(values)


def cpu_per_gib(data, relay, cases, test="throughput"):
    cpu = 0.0
    gib = 0.0
    for case in cases:
        c = total(data, test, relay, case, "cpu_s")
        b = total(data, test, relay, case, "bytes")
        if c is None or b is None:
            return None
        cpu += c
        gib += b / GIB
    if gib == 0:
        return None
    return cpu / gib


def fmt(value, digits=1):
    if value is None:
        return "n/a"
    return f"{value:,.{digits}f}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def fmt_ratio(r):
    if r is None:
        return "n/a"
    return f"{r:.2f}×"


def with_ratio(value, ref, digits=1):
    """'9.1 (0.70×)': value and its ratio to the reference (direct)."""
    if value is None:
        return "n/a"
    r = ratio(value, ref)
    if r is None:
        return fmt(value, digits)
    return f"{fmt(value, digits)} ({fmt_ratio(r)})"


def read_machine(path):
    info = []
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                key, _, value = line.rstrip("\n").partition(": ")
                info.append((key, value))
    return info


class Report:
    def __init__(self, data, reps):
        self.d = data
        self.reps = reps
        self.lines = []

    def out(self, line=""):
        self.lines.append(line)

    def table(self, header, rows):
        self.out("| " + " | ".join(header) + " |")
        self.out("|" + "|".join("---" if i == 0 or h == "note" else "--:"
                                for i, h in enumerate(header)) + "|")
        for row in rows:
            self.out("| " + " | ".join(row) + " |")
        self.out()


def vsock_section(rep, data, vs, by_rep, info, reps):
    """The host/guest pair over vsock, measured in the QEMU guest."""
    rep.out("## Throughput over vsock, in the QEMU guest (Gbit/s, iperf3)")
    rep.out()
    if not any(v is not None for v in vs.values()):
        rep.out("Not measured in this run (`BENCH_VSOCK=0`, or "
                "`bench/vsock.sh` failed: see the run's log); "
                "`bench/vsock.sh` measures it on its own.")
        rep.out()
        return
    rep.out("The host/guest pair as it is deployed — one relay listening on "
            "TCP and connecting over vsock, one listening on vsock and "
            "connecting over TCP — run inside the QEMU guest of the VM suite "
            "(`bench/vsock.sh` with `tests/vm`; AF_VSOCK is never opened on "
            "this machine). In the guest the vsock hop is the kernel's "
            "`vsock_loopback` (CID 1). One iperf3 stream to a server on "
            "127.0.0.1 through each path; upload: the client sends, "
            f"download: `-R`. Medians of {reps} interleaved repetitions. "
            "The guest is emulated (TCG) on two vCPUs shared by client, "
            "server and both relays, so every figure is far below real "
            "hardware: compare the paths with each other, not with the "
            "tables above. In parentheses: the ratio to direct TCP in the "
            "guest.")
    rep.out()
    for key, value in info:
        rep.out(f"- {key}: {value}")
    if info:
        rep.out()
    rows = []
    for r, label in VSOCK_SETS:
        rows.append([label] + [with_ratio(vs[(r, c)], vs[("direct", c)], 3)
                               for c, _ in VSOCK_CASES])
    rep.table(["path"] + [label for _, label in VSOCK_CASES], rows)
    rep.out(f"Spread (lowest – highest of the {reps} repetitions):")
    rep.out()
    rows = []
    for r, label in VSOCK_SETS:
        row = [label]
        for c, _ in VSOCK_CASES:
            v = data.get(("vsock", r, c, "gbps"))
            row.append(f"{min(v):.3f} – {max(v):.3f}" if v else "n/a")
        rows.append(row)
    rep.table(["path"] + [label for _, label in VSOCK_CASES], rows)
    rep.out("Ratios: of the medians above, and the median of the "
            "per-repetition ratios (the paths of one repetition are measured "
            "seconds apart, so this one is steadier when the host's load "
            "drifts during the run).")
    rep.out()
    rows = []
    for a, b in (("hvrelay", "socat"), ("hvrelay-nosplice", "socat"),
                 ("hvrelay", "hvrelay-nosplice")):
        name = f"{dict(VSOCK_SETS)[a]} / {dict(VSOCK_SETS)[b]}"
        rows.append([name] +
                    [fmt_ratio(ratio(vs[(a, c)], vs[(b, c)]))
                     for c, _ in VSOCK_CASES] +
                    [fmt_ratio(paired_ratio(by_rep, a, b, c))
                     for c, _ in VSOCK_CASES])
    rep.table(["ratio"] +
              [f"{label}, of medians" for _, label in VSOCK_CASES] +
              [f"{label}, per repetition" for _, label in VSOCK_CASES],
              rows)
    rep.out("Guest CPU seconds per GiB received (utime+stime of both relays "
            "of the pair, for socat including its reaped forks, over every "
            "repetition): emulated time, comparable between the pairs only.")
    rep.out()
    rows = []
    cases = [c for c, _ in VSOCK_CASES]
    for r, label in VSOCK_SETS[1:]:
        rows.append([label] +
                    [fmt(cpu_per_gib(data, r, [c], "vsock"), 2)
                     for c in cases] +
                    [fmt(cpu_per_gib(data, r, cases, "vsock"), 2)])
    rep.table(["pair"] + [label for _, label in VSOCK_CASES] + ["all"], rows)
    errors = [k for k in data if k[0] == "vsock" and k[3] == "error"]
    if errors:
        rep.out("Failed iperf3 runs (left out of the medians): " +
                ", ".join(f"{k[1]} {k[2]}" for k in errors))
        rep.out()


def main():
    results_dir = sys.argv[1]
    data = load(os.path.join(results_dir, "results.csv"))
    vsock_csv = sys.argv[2] if len(sys.argv) > 2 else None
    if vsock_csv and os.path.exists(vsock_csv):
        for key, values in load(vsock_csv).items():
            data[key].extend(values)
    machine = read_machine(os.path.join(results_dir, "machine.txt"))
    reps = max([len(v) for k, v in data.items()
                if k[0] == "throughput" and k[3] == "gbps"] or [0])
    rep = Report(data, reps)
    m = lambda *k: median(data, *k)  # noqa: E731

    tp = {(r, c): m("throughput", r, c, "gbps")
          for r in RELAYS for c, _ in TP_CASES}
    lat = {(r, c, p): m("latency", r, c, p)
           for r in RELAYS for c, _ in LAT_CASES + PINNED_CASES
           for p in ("p50_us", "p99_us")}
    rate = {r: m("connrate", r, "conn", "conn_per_s") for r in RELAYS}
    mem = {r: m("memory", r, "idle", "bytes_per_conn") for r in RELAYS}
    cpu = {(r, c): cpu_per_gib(data, r, [c])
           for r in RELAYS for c, _ in TP_CASES}
    cpu_all = {r: cpu_per_gib(data, r, [c for c, _ in TP_CASES])
               for r in RELAYS}
    vs = {(r, c): m("vsock", r, c, "gbps")
          for r, _ in VSOCK_SETS for c, _ in VSOCK_CASES}
    vsock_info = []
    vsock_by_rep = {}
    if vsock_csv and os.path.exists(vsock_csv):
        vsock_info = read_machine(os.path.splitext(vsock_csv)[0] + ".txt")
        vsock_by_rep = load_reps(vsock_csv, "vsock", "gbps")
    vsock_reps = max([len(v) for k, v in data.items()
                      if k[0] == "vsock" and k[3] == "gbps"] or [0])

    rep.out("# hvrelay benchmark results")
    rep.out()
    rep.out("Generated by `bench/run.sh` (raw samples: `results.csv`, chart: "
            "`throughput.png`). Everything on one machine over 127.0.0.1; "
            f"every figure is the median of {reps} interleaved repetitions "
            "unless said otherwise. In parentheses: the ratio to direct "
            "(no relay, the ceiling).")
    rep.out()
    rep.out("## Machine")
    rep.out()
    for key, value in machine:
        rep.out(f"- {key}: {value}")
    rep.out()

    # Throughput.
    rep.out("## Throughput (Gbit/s, iperf3)")
    rep.out()
    rep.out("Each relay listens on its own loopback port and forwards to the "
            "iperf3 server; `-R`: the server sends.")
    rep.out()
    rows = []
    for r in RELAYS:
        rows.append([r] + [with_ratio(tp[(r, c)], tp[("direct", c)])
                           for c, _ in TP_CASES])
    rep.table(["relay"] + [label for _, label in TP_CASES], rows)
    rep.out(f"Spread (lowest – highest of the {reps} repetitions): this is a "
            "VM on a shared host, and even direct moves a lot between runs, "
            "so compare within a run and mind the overlap.")
    rep.out()
    rows = []
    for r in RELAYS:
        row = [r]
        for c, _ in TP_CASES:
            v = data.get(("throughput", r, c, "gbps"))
            row.append(f"{min(v):.1f} – {max(v):.1f}" if v else "n/a")
        rows.append(row)
    rep.table(["relay"] + [label for _, label in TP_CASES], rows)
    errors = [k for k in data if k[0] == "throughput" and k[3] == "error"]
    if errors:
        rep.out("Failed iperf3 runs (left out of the medians): " +
                ", ".join(f"{k[1]} {k[2]}" for k in errors))
        rep.out()

    vsock_section(rep, data, vs, vsock_by_rep, vsock_info, vsock_reps)

    # Latency.
    rep.out("## Latency (µs per request/response round trip, `bench/rr.c`)")
    rep.out()
    rep.out("One connection, TCP_NODELAY at both ends, the echo server "
            "`rr echo` behind the relay; p50/p99 over every round trip of a "
            "run, median over runs. First as the scheduler places the "
            "processes (what a user gets), then with client, relay and echo "
            "server all on CPU 0 (`taskset`): in a VM, waking a process on "
            "the other, idle vCPU costs tens of µs per hop, which swamps the "
            "relay's own cost and varies with placement. The pinned table "
            "is the relay's own cost per round trip.")
    rep.out()
    for cases, title in ((LAT_CASES, "Unpinned:"),
                         (PINNED_CASES, "All on CPU 0:")):
        rep.out(title)
        rep.out()
        rows = []
        for r in RELAYS:
            row = [r]
            for c, _ in cases:
                for p in ("p50_us", "p99_us"):
                    row.append(with_ratio(lat[(r, c, p)],
                                          lat[("direct", c, p)]))
            rows.append(row)
        rep.table(["relay", "1 B p50", "1 B p99", "4 KiB p50", "4 KiB p99"],
                  rows)

    # Connection rate.
    rep.out("## Connection rate (connections/s)")
    rep.out()
    rep.out("`rr connrate`: concurrent workers, each looping connect, send "
            "1 byte, receive it, close, for a fixed time.")
    rep.out()
    rows = []
    for r in RELAYS:
        errs = total(data, "connrate", r, "conn", "errors")
        fails = total(data, "connrate", r, "conn", "error")
        note = fmt(errs, 0) if errs is not None else "n/a"
        if fails:
            note += f" ({int(fails)} failed runs)"
        rows.append([r, with_ratio(rate[r], rate["direct"], 0), note])
    rep.table(["relay", "conn/s", "failed connections (all runs)"], rows)

    # Memory.
    wanted = None
    for key, value in machine:
        if key == "settings" and "idle connections " in value:
            wanted = int(value.split("idle connections ")[1].split()[0])
    held = {r: m("memory", r, "idle", "conns") for r in RELAYS}
    rep.out("## Memory holding idle connections")
    rep.out()
    rows = []
    for r in RELAYS[1:]:
        c = held[r]
        before = m("memory", r, "idle", "rss_before_kib")
        after = m("memory", r, "idle", "rss_after_kib")
        setup = m("memory", r, "idle", "setup_s")
        note = ""
        if r == "socat":
            procs = m("memory", r, "idle", "processes")
            rss_sum = m("memory", r, "idle", "rss_sum_after_kib")
            rss_sum0 = m("memory", r, "idle", "rss_sum_before_kib")
            note = (f"PSS summed over {fmt(procs, 0)} processes (one fork per "
                    "connection); the plain RSS sum, which counts shared "
                    f"pages once per process, is {fmt(rss_sum, 0)} KiB")
            if rss_sum is not None and rss_sum0 is not None and c:
                note += (f", {fmt((rss_sum - rss_sum0) * 1024 / c / 1024, 0)}"
                         " KiB/connection")
        elif r == "haproxy":
            note = ("its fd tables for maxconn 9500 are allocated at start, "
                    "so they are in 'before'")
        if c is not None and wanted is not None and c < wanted:
            note = (f"only {int(c):,} of {wanted:,} connections within the "
                    "setup budget: it takes new connections more and more "
                    "slowly as it holds more; " + note).rstrip("; ")
        if m("memory", r, "idle", "error"):
            note = "could not hold the connections: see the run log"
        per = mem[r]
        rows.append([r, fmt(c, 0), fmt(before, 0), fmt(after, 0),
                     f"{fmt(per, 0)} B ({fmt(per / 1024 if per else None, 2)} KiB)"
                     if per is not None else "n/a",
                     fmt(setup, 1), note])
    wanted_text = f"{wanted:,}" if wanted else "N"
    rep.out(f"A fresh relay; `rr hold` opens {wanted_text} connections through "
            "it to `rr echo` (client and echo server: separate processes), "
            "makes one 1-byte round trip on each, then leaves them idle. "
            "Per connection = (RSS after − RSS before) / connections. Direct "
            "has no relay process.")
    rep.out()
    rep.table(["relay", "connections", "RSS before (KiB)", "RSS after (KiB)",
               "per connection", "setup (s)", "note"], rows)

    # CPU.
    rep.out("## CPU per GiB relayed (s/GiB, during the throughput runs)")
    rep.out()
    rep.out("utime+stime of the relay process from /proc/PID/stat (for socat "
            "plus cutime+cstime: its reaped forks), summed over the "
            "repetitions of a case and divided by the GiB iperf3 received. "
            "Direct has no relay process.")
    rep.out()
    rows = []
    for r in RELAYS[1:]:
        rows.append([r] + [fmt(cpu[(r, c)], 3) for c, _ in TP_CASES] +
                    [fmt(cpu_all[r], 3)])
    rep.table(["relay"] + [label for _, label in TP_CASES] + ["all"], rows)

    # hvrelay against each.
    rep.out("## hvrelay against each (ratio hvrelay / other)")
    rep.out()
    metrics = []
    for c, label in TP_CASES:
        metrics.append((f"throughput {label}", "higher",
                        {r: tp[(r, c)] for r in RELAYS}, 2))
    for cases, suffix in ((LAT_CASES, ""), (PINNED_CASES, ", CPU 0")):
        for c, label in cases:
            for p in ("p50_us", "p99_us"):
                metrics.append((f"latency {label} {p[:3]}{suffix}", "lower",
                                {r: lat[(r, c, p)] for r in RELAYS}, 1))
    metrics.append(("conn/s", "higher", rate, 0))
    metrics.append(("bytes per idle connection", "lower", mem, 0))
    metrics.append(("CPU s/GiB (all cases)", "lower", cpu_all, 3))
    rows = []
    for name, better, values, digits in metrics:
        hv = values.get("hvrelay")
        rows.append([name, better, fmt(hv, digits)] +
                    [fmt_ratio(ratio(hv, values.get(r)))
                     for r in ["direct"] + PEERS])
    rep.table(["metric", "better", "hvrelay", "vs direct", "vs socat",
               "vs haproxy", "vs rinetd"], rows)

    # Targets.
    rep.out("## Targets (issue 5)")
    rep.out()

    def verdict(ok, text, details):
        rep.out(f"- **{'PASS' if ok else 'MISS'}** {text}")
        for d in details:
            rep.out(f"  - {d}")

    ok = True
    details = []
    for c, label in TP_CASES:
        hv = tp[("hvrelay", c)]
        peer_vals = {p: tp[(p, c)] for p in PEERS if tp[(p, c)] is not None}
        if hv is None or not peer_vals:
            ok = False
            details.append(f"{label}: no data")
            continue
        best = max(peer_vals, key=peer_vals.get)
        r = hv / peer_vals[best]
        ok = ok and r >= 1.25
        details.append(f"{label}: hvrelay {fmt(hv, 2)} vs {best} "
                       f"{fmt(peer_vals[best], 2)} Gbit/s = {r:.2f}× "
                       f"({'ok' if r >= 1.25 else 'short'})")
    verdict(ok, "throughput ≥ 1.25 × the best of socat/haproxy/rinetd, "
            "every case", details)

    ok = True
    details = []
    for c, label in TP_CASES:
        r = ratio(tp[("hvrelay", c)], tp[("direct", c)])
        ok = ok and r is not None and r >= 0.6
        details.append(f"{label}: hvrelay {fmt(tp[('hvrelay', c)], 2)} vs "
                       f"direct {fmt(tp[('direct', c)], 2)} Gbit/s = "
                       f"{fmt_ratio(r)} "
                       f"({'ok' if r is not None and r >= 0.6 else 'short'})")
    verdict(ok, "throughput ≥ 0.6 × direct, every case", details)

    ok = True
    details = []
    for c, label in VSOCK_CASES:
        hv, so = vs[("hvrelay", c)], vs[("socat", c)]
        r = ratio(hv, so)
        good = r is not None and r >= VSOCK_TARGET
        ok = ok and good
        if r is None:
            details.append(f"{label}: no data")
            continue
        paired = paired_ratio(vsock_by_rep, "hvrelay", "socat", c)
        details.append(f"{label}: hvrelay pair {fmt(hv, 3)} vs socat pair "
                       f"{fmt(so, 3)} Gbit/s = {fmt_ratio(r)} "
                       f"({'ok' if good else 'short'}; median of the "
                       f"per-repetition ratios {fmt_ratio(paired)})")
    verdict(ok, f"vsock pair in the QEMU guest: hvrelay pair ≥ "
            f"{VSOCK_TARGET} × the socat pair, both directions", details)

    ok = True
    details = []
    for c, label in LAT_CASES:
        hv = lat[("hvrelay", c, "p50_us")]
        hp = lat[("haproxy", c, "p50_us")]
        good = hv is not None and hp is not None and hv <= hp
        ok = ok and good
        details.append(f"{label}: hvrelay {fmt(hv)} µs vs haproxy {fmt(hp)} "
                       f"µs ({'ok' if good else 'worse'})")
    for c, label in PINNED_CASES:
        hv = lat[("hvrelay", c, "p50_us")]
        hp = lat[("haproxy", c, "p50_us")]
        good = hv is not None and hp is not None and hv <= hp
        details.append(f"for information, all on CPU 0, {label}: hvrelay "
                       f"{fmt(hv)} µs vs haproxy {fmt(hp)} µs "
                       f"({'ok' if good else 'worse'})")
    verdict(ok, "p50 latency no worse than haproxy's (unpinned)", details)

    hv, hp = rate["hvrelay"], rate["haproxy"]
    good = hv is not None and hp is not None and hv >= hp
    verdict(good, "connection rate ≥ haproxy's",
            [f"hvrelay {fmt(hv, 0)}/s vs haproxy {fmt(hp, 0)}/s = "
             f"{fmt_ratio(ratio(hv, hp))}"])

    per = mem["hvrelay"]
    c = held["hvrelay"]
    good = per is not None and per <= 8192 and c is not None and \
        (wanted is None or c >= wanted)
    verdict(good, f"≤ 8 KiB relay RSS per idle connection at {wanted_text} "
            "connections",
            [f"hvrelay {fmt(per, 0)} B per connection at {fmt(c, 0)} "
             "connections"])
    rep.out()

    # Timings and method.
    rep.out("## Run")
    rep.out()
    timing = [(k[2], v[0]) for k, v in data.items() if k[0] == "timing"]
    rep.out("Wall-clock seconds per phase: " +
            ", ".join(f"{name} {int(v)}" for name, v in timing))
    rep.out()
    rep.out("How each relay ran (configs generated in a temp dir):")
    rep.out()
    rep.out("- hvrelay: `hvrelay -c hvrelay.conf`, global `log-level = warn` "
            "(no per-connection log line: the peers write none) and "
            "`max-connections = 10000`, one forward (`[bench]`, "
            "`[bench-echo]`) `tcp:127.0.0.1:PORT` → `tcp:127.0.0.1:TARGET` "
            "per server, every other key at its default (a copy of "
            "build/src/hvrelay taken at the start of the run).")
    rep.out("- socat: `socat TCP-LISTEN:PORT,fork,reuseaddr,bind=127.0.0.1 "
            "TCP:127.0.0.1:TARGET` (bind added to stay on loopback), one "
            "process per forward, a fork per connection.")
    rep.out("- haproxy: `haproxy -db -f haproxy.cfg` (foreground, no "
            "master process, so its PID is the worker), `mode tcp`, "
            "`maxconn 9500` in global and defaults (a proxy's default is "
            "2000), timeouts 5s/1h/1h; it runs one thread per core by "
            "default and, in this minimal config, does not splice "
            "(`option splice-auto` would).")
    rep.out("- rinetd: `rinetd -f -c rinetd.conf`, lines `127.0.0.1 PORT "
            "127.0.0.1 TARGET`, no log file.")
    rep.out("- vsock pairs, in the guest (`bench/vsock-guest.sh`): hvrelay "
            "`tcp:127.0.0.1:PORT` → `vsock:1:VPORT` and `vsock:any:VPORT` → "
            "`tcp:127.0.0.1:5201` (the iperf3 server), `log-level = warn`, "
            "`control-socket = off`, `splice` yes or no, every other key at "
            "its default; socat `TCP-LISTEN:PORT,fork,reuseaddr,"
            "bind=127.0.0.1 VSOCK-CONNECT:1:VPORT` and `VSOCK-LISTEN:VPORT,"
            "fork,reuseaddr TCP:127.0.0.1:5201`. Host-side copies of "
            "iperf3, socat and the hvrelay binary run there.")
    rep.out("- direct: the clients connect straight to the iperf3 / echo "
            "server port.")
    rep.out()

    with open(os.path.join(results_dir, "RESULTS.md"), "w") as f:
        f.write("\n".join(rep.lines))

    # Chart data and script.
    dat = os.path.join(results_dir, "throughput.dat")
    write_dat(dat, data, "throughput", RELAYS, TP_CASES)
    png = os.path.join(results_dir, "throughput.png")
    title = next((v for k, v in machine if k == "cpu"), "")
    cores = next((v for k, v in machine if k == "cores"), "?")
    loopback = f"""set title "TCP relay throughput over loopback, iperf3: median of {reps}, bars lowest–highest\\n{title}, {cores} cores"
set ylabel "Gbit/s"
set yrange [0:*]
set grid ytics
set key top right
set style data histograms
set style histogram errorbars gap 1 lw 1
set style fill solid 0.85 border -1
set boxwidth 0.9
plot for [i=0:{len(RELAYS) - 1}] "{dat}" using 2+3*i:3+3*i:4+3*i:xtic(1) title columnheader(2+3*i)
"""
    with open(os.path.join(results_dir, "throughput.gp"), "w") as f:
        if not any(v is not None for v in vs.values()):
            f.write(f"""set terminal pngcairo size 1000,560 font "sans,11"
set output "{png}"
{loopback}""")
            return
        # The guest's figures are a few percent of the loopback ones: a
        # panel of their own, with its own scale, beside the first.
        vdat = os.path.join(results_dir, "vsock.dat")
        write_dat(vdat, data, "vsock", [r for r, _ in VSOCK_SETS],
                  VSOCK_CASES)
        # Headroom above the bars for the key.
        top = 1.5 * max(max(v) for k, v in data.items()
                        if k[0] == "vsock" and k[3] == "gbps")
        # The colours of direct, hvrelay and socat in the first panel.
        colours = {"direct": "lt 1", "hvrelay": "lt 2",
                   "hvrelay-nosplice": 'lc rgb "#8fd9c2"', "socat": "lt 3"}
        # skip 1: the header row (these titles have spaces, so they are
        # given in the plot command, not taken from the file).
        plots = ", ".join(
            f'"{vdat}" skip 1 using {2 + 3 * i}:{3 + 3 * i}:{4 + 3 * i}'
            f'{":xtic(1)" if i == 0 else ""} title "{label}" {colours[r]}'
            for i, (r, label) in enumerate(VSOCK_SETS))
        f.write(f"""set terminal pngcairo size 1500,560 font "sans,11"
set output "{png}"
set multiplot
set size 0.64,1
set origin 0,0
{loopback}
set size 0.36,1
set origin 0.64,0
set title "vsock pair (tcp → vsock → tcp) in the QEMU guest (TCG)\\n1 stream, iperf3: median of {vsock_reps}, bars lowest–highest"
set yrange [0:{top:.3f}]
plot {plots}
unset multiplot
""")


def write_dat(path, data, test, relays, cases):
    """Per case, per relay: median, lowest, highest (gnuplot errorbars)."""
    with open(path, "w") as f:
        f.write("case " + " ".join(f"{r} {r}_min {r}_max" for r in relays)
                + "\n")
        for c, label in cases:
            cells = []
            for r in relays:
                v = data.get((test, r, c, "gbps"))
                if v:
                    cells += [f"{statistics.median(v):.3f}",
                              f"{min(v):.3f}", f"{max(v):.3f}"]
                else:
                    cells += ["NaN"] * 3
            f.write(f'"{label}" ' + " ".join(cells) + "\n")

if __name__ == "__main__":
    main()
