# One place for the firmware's log lines: the serial console on the board (print); the host
# simulator points `sink` at its logging, which adds the device id.

sink = None


def log(*parts):
    text = " ".join([str(p) for p in parts])
    if sink is None:
        print(text)
    else:
        sink(text)
