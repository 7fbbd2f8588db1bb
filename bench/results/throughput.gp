set terminal pngcairo size 1500,560 font "sans,11"
set output "/work/main/bench/results/throughput.png"
set multiplot
set size 0.64,1
set origin 0,0
set title "TCP relay throughput over loopback, iperf3: median of 5, bars lowest–highest\nAMD EPYC, 2 cores"
set ylabel "Gbit/s"
set yrange [0:*]
set grid ytics
set key top right
set style data histograms
set style histogram errorbars gap 1 lw 1
set style fill solid 0.85 border -1
set boxwidth 0.9
plot for [i=0:4] "/work/main/bench/results/throughput.dat" using 2+3*i:3+3*i:4+3*i:xtic(1) title columnheader(2+3*i)

set size 0.36,1
set origin 0.64,0
set title "vsock pair (tcp → vsock → tcp) in the QEMU guest (TCG)\n1 stream, iperf3: median of 7, bars lowest–highest"
set yrange [0:2.356]
plot "/work/main/bench/results/vsock.dat" skip 1 using 2:3:4:xtic(1) title "direct (no relay)" lt 1, "/work/main/bench/results/vsock.dat" skip 1 using 5:6:7 title "hvrelay pair" lt 2, "/work/main/bench/results/vsock.dat" skip 1 using 8:9:10 title "hvrelay pair, splice = no" lc rgb "#8fd9c2", "/work/main/bench/results/vsock.dat" skip 1 using 11:12:13 title "socat pair" lt 3
unset multiplot
