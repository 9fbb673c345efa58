# Boot as main.py does after an update: fw_boot picks the version folder (compiled .mpy files)
# and the firmware is imported from it. Prints what it runs.
import os
import sys

import fw_boot

root = os.getenv("PD_OTA") + "/flash"
path, trial = fw_boot.choose(root)
if path is not None:
    sys.path.insert(0, path)
    sys.modules.pop("fw_store", None)
import fw_controller  # noqa: E402 - after the path is set, as fw_boot.run() does
import fw_ids  # noqa: E402

print("@@BOOT", fw_ids.FW_VERSION, path, fw_controller.__file__)
