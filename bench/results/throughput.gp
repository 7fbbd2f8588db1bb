set terminal pngcairo size 1000,560 font "sans,11"
set output "results/throughput.png"
set title "TCP relay throughput over loopback, iperf3: median of 5, bars lowest–highest\nAMD EPYC, 2 cores"
set ylabel "Gbit/s"
set yrange [0:*]
set grid ytics
set key top right
set style data histograms
set style histogram errorbars gap 1 lw 1
set style fill solid 0.85 border -1
set boxwidth 0.9
plot for [i=0:4] "results/throughput.dat" using 2+3*i:3+3*i:4+3*i:xtic(1) title columnheader(2+3*i)
