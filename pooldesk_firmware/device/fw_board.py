# Pin map and timing constants of the controller board (ESP32 DevKit + relay + DS18B20).

RELAY_PIN = 26      # relay driver, high = pump on
LED_PIN = 2         # on-board LED
BUTTON_PIN = 0      # BOOT button, active low
ONEWIRE_PIN = 4     # DS18B20 data line (4.7k pull-up)

LONG_PRESS_MS = 5000       # hold the button this long for a factory reset
SHORT_PRESS_MS = 1000      # a press of 1-5 s turns Bluetooth back on (a Wi-Fi change)
WDT_TIMEOUT_MS = 30000     # the watchdog resets the board if the main loop stalls this long
SENSOR_PERIOD_S = 5        # water temperature read interval
TELEMETRY_PERIOD_S = 60
NTP_RETRY_S = 30
NTP_RESYNC_S = 6 * 3600
