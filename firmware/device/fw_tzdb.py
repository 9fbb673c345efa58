# IANA zone name -> POSIX TZ rule, for the zones a pool owner is likely to live in.
# Rules as of the 2024 tz database. A schedule may also carry a POSIX rule directly.

_CET = "CET-1CEST,M3.5.0,M10.5.0/3"
_EET = "EET-2EEST,M3.5.0/3,M10.5.0/4"
_WET = "WET0WEST,M3.5.0/1,M10.5.0"
_US_E = "EST5EDT,M3.2.0,M11.1.0"
_US_C = "CST6CDT,M3.2.0,M11.1.0"
_US_M = "MST7MDT,M3.2.0,M11.1.0"
_US_P = "PST8PDT,M3.2.0,M11.1.0"
_AU_E = "AEST-10AEDT,M10.1.0,M4.1.0/3"

ZONES = {
    "UTC": "UTC0", "Etc/UTC": "UTC0", "GMT": "GMT0", "Etc/GMT": "GMT0",
    "Europe/London": "GMT0BST,M3.5.0/1,M10.5.0",
    "Europe/Dublin": "GMT0IST,M3.5.0/1,M10.5.0",
    "Europe/Lisbon": _WET, "Atlantic/Canary": _WET, "Atlantic/Madeira": _WET,
    "Europe/Madrid": _CET, "Europe/Paris": _CET, "Europe/Berlin": _CET, "Europe/Rome": _CET,
    "Europe/Amsterdam": _CET, "Europe/Brussels": _CET, "Europe/Vienna": _CET,
    "Europe/Zurich": _CET, "Europe/Stockholm": _CET, "Europe/Oslo": _CET,
    "Europe/Copenhagen": _CET, "Europe/Prague": _CET, "Europe/Warsaw": _CET,
    "Europe/Budapest": _CET, "Europe/Belgrade": _CET, "Europe/Zagreb": _CET,
    "Europe/Ljubljana": _CET, "Europe/Bratislava": _CET, "Europe/Luxembourg": _CET,
    "Europe/Monaco": _CET, "Europe/Malta": _CET, "Europe/Andorra": _CET,
    "Europe/Gibraltar": _CET, "Europe/Tirane": _CET, "Europe/Sarajevo": _CET,
    "Europe/Skopje": _CET, "Europe/Podgorica": _CET, "Africa/Ceuta": _CET,
    "Europe/Athens": _EET, "Europe/Helsinki": _EET, "Europe/Kyiv": _EET, "Europe/Kiev": _EET,
    "Europe/Riga": _EET, "Europe/Tallinn": _EET, "Europe/Vilnius": _EET,
    "Europe/Sofia": _EET, "Europe/Bucharest": _EET, "Asia/Nicosia": _EET,
    "Europe/Chisinau": "EET-2EEST,M3.5.0,M10.5.0/3",
    "Europe/Istanbul": "<+03>-3", "Europe/Moscow": "MSK-3", "Europe/Minsk": "<+03>-3",
    "America/New_York": _US_E, "America/Detroit": _US_E, "America/Toronto": _US_E,
    "America/Chicago": _US_C, "America/Winnipeg": _US_C,
    "America/Denver": _US_M, "America/Edmonton": _US_M, "America/Boise": _US_M,
    "America/Phoenix": "MST7",
    "America/Los_Angeles": _US_P, "America/Vancouver": _US_P,
    "America/Anchorage": "AKST9AKDT,M3.2.0,M11.1.0", "Pacific/Honolulu": "HST10",
    "America/Halifax": "AST4ADT,M3.2.0,M11.1.0", "America/St_Johns": "NST3:30NDT,M3.2.0,M11.1.0",
    "America/Puerto_Rico": "AST4", "America/Mexico_City": "CST6", "America/Cancun": "EST5",
    "America/Bogota": "<-05>5", "America/Lima": "<-05>5", "America/Caracas": "<-04>4",
    "America/Sao_Paulo": "<-03>3", "America/Argentina/Buenos_Aires": "<-03>3",
    "America/Montevideo": "<-03>3", "America/Santiago": "<-04>4<-03>,M9.1.6/24,M4.1.6/24",
    "Asia/Tokyo": "JST-9", "Asia/Seoul": "KST-9", "Asia/Shanghai": "CST-8",
    "Asia/Hong_Kong": "HKT-8", "Asia/Taipei": "CST-8", "Asia/Singapore": "<+08>-8",
    "Asia/Manila": "PST-8", "Asia/Kolkata": "IST-5:30", "Asia/Dubai": "<+04>-4",
    "Asia/Bangkok": "<+07>-7", "Asia/Jakarta": "WIB-7", "Asia/Karachi": "PKT-5",
    "Asia/Riyadh": "<+03>-3", "Asia/Tehran": "<+0330>-3:30",
    "Asia/Jerusalem": "IST-2IDT,M3.4.4/26,M10.5.0",
    "Australia/Sydney": _AU_E, "Australia/Melbourne": _AU_E, "Australia/Hobart": _AU_E,
    "Australia/Canberra": _AU_E, "Australia/Brisbane": "AEST-10",
    "Australia/Adelaide": "ACST-9:30ACDT,M10.1.0,M4.1.0/3", "Australia/Darwin": "ACST-9:30",
    "Australia/Perth": "AWST-8", "Pacific/Auckland": "NZST-12NZDT,M9.5.0,M4.1.0/3",
    "Africa/Johannesburg": "SAST-2", "Africa/Cairo": "EET-2EEST,M4.5.5/0,M10.5.4/24",
    "Africa/Lagos": "WAT-1", "Africa/Nairobi": "EAT-3", "Africa/Algiers": "CET-1",
    "Africa/Tunis": "CET-1",
}


def rule_for(tz):
    """POSIX rule text for an IANA name, or tz itself when it already is a POSIX rule."""
    if tz in ZONES:
        return ZONES[tz]
    for ch in tz:
        if ch.isdigit():
            return tz
    raise ValueError("unknown time zone: " + tz)
