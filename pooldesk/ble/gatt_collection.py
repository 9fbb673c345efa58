"""Bumble's discovered GATT proxies as bleak's ``BleakGATTServiceCollection``."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bumble.gatt import Characteristic as GattCharacteristic
from bumble.gatt_client import ServiceProxy

from pooldesk.ble.adparse import bumble_uuid_to_str

# bleak's property names, by the Characteristic Properties bit (Core spec Vol 3 Part G 3.3.1.1)
_PROPERTY_NAMES = {
    GattCharacteristic.Properties.BROADCAST: "broadcast",
    GattCharacteristic.Properties.READ: "read",
    GattCharacteristic.Properties.WRITE_WITHOUT_RESPONSE: "write-without-response",
    GattCharacteristic.Properties.WRITE: "write",
    GattCharacteristic.Properties.NOTIFY: "notify",
    GattCharacteristic.Properties.INDICATE: "indicate",
    GattCharacteristic.Properties.AUTHENTICATED_SIGNED_WRITES: "authenticated-signed-writes",
    GattCharacteristic.Properties.EXTENDED_PROPERTIES: "extended-properties",
}


def property_names(properties: int) -> list[str]:
    return [name for bit, name in _PROPERTY_NAMES.items() if properties & bit]


def build_service_collection(
    services: Iterable[ServiceProxy],
    only: set[str] | None,
    max_write_without_response: Callable[[], int],
) -> BleakGATTServiceCollection:
    """Services (optionally only those whose UUID is in ``only``) with their characteristics
    and descriptors; each bleak object keeps the Bumble proxy in ``.obj``."""
    collection = BleakGATTServiceCollection()
    for service in services:
        service_uuid = bumble_uuid_to_str(service.uuid)
        if only is not None and service_uuid not in only:
            continue
        bleak_service = BleakGATTService(service, service.handle, service_uuid)
        collection.add_service(bleak_service)
        for characteristic in service.characteristics:
            bleak_characteristic = BleakGATTCharacteristic(
                characteristic,
                characteristic.handle,
                bumble_uuid_to_str(characteristic.uuid),
                property_names(int(characteristic.properties)),  # type: ignore[arg-type]
                max_write_without_response,
                bleak_service,
            )
            collection.add_characteristic(bleak_characteristic)
            for descriptor in characteristic.descriptors:
                collection.add_descriptor(
                    BleakGATTDescriptor(
                        descriptor,
                        descriptor.handle,
                        bumble_uuid_to_str(descriptor.type),
                        bleak_characteristic,
                    )
                )
    return collection
