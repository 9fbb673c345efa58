# MicroPython runs this file after boot.
import fw_app

fw_app.run("/")
