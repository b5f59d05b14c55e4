import argparse, os, time
p = argparse.ArgumentParser()
p.add_argument("--procs", type=int, default=2)
p.add_argument("--threads-per-proc", type=int, default=1)
p.add_argument("--data", help="directory with the four MNIST IDX files")
p.add_argument("--epochs", type=int, default=1)
p.add_argument("--iters", type=int, default=300, help="timed iterations without --data")
p.add_argument("--port", type=int, default=29541)
