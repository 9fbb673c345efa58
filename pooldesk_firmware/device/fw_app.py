# Board entry: build the controller on the flash root and run it; on a crash, restart the board.

import asyncio
import time

import machine

import fw_controller
import fw_log


def run(root="/"):
    controller = fw_controller.Controller(root)
    try:
        asyncio.run(controller.main())
    except Exception as e:  # last resort: the relay goes off with the reset, then we start over
        fw_log.log("fatal:", repr(e))
        time.sleep(5)
        machine.reset()
