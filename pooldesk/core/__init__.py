"""The app's Qt-free core: backend client, session, token store, MQTT link and device state.

Nothing in this package imports Qt, so its tests run without a QApplication.
"""
