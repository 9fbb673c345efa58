"""Bluetooth LE for PoolDesk: bleak everywhere, with Bumble underneath when asked.

- ``radio``: which radio (``POOLDESK_BLE`` = unset/``os`` | ``virtual`` | a Bumble transport),
  ``scanner_backend()``/``client_backend()`` for bleak's ``backend=``, ``get_virtual_link()``.
- ``bumble_backend``: ``BumbleScanner``/``BumbleClient``, a bleak back end on a shared Bumble
  central (``central``).
- ``link``: ``BleakGattLink``/``open_gatt_link``, the provisioning client's GattLink over bleak.
- ``scan``: ``scan_for_controllers``, the wizard's list of nearby pool controllers.
"""
