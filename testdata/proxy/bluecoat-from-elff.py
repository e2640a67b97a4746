#!/usr/bin/python3
"""Make a Blue Coat ProxySG bcreportermain_v1 log (27 columns, no header, the
layout Apache Spot read) from the ELFF log Squid wrote with Blue Coat field
names (squid-elff.access.log). No real Blue Coat log is public: this only
rearranges the columns. Columns Squid has no datum for are "-"; cs-uri-path is
split into path and cs-uri-query ("?..." as ProxySG writes it), and
cs-uri-extension is taken from the path's last segment, as ProxySG does.

    /usr/bin/python3 bluecoat-from-elff.py < squid-elff.access.log > bluecoat.log
"""
import re
import sys

BLUECOAT = ("date time time-taken c-ip cs-username cs-auth-group x-exception-id "
            "sc-filter-result cs-categories cs(Referer) sc-status s-action cs-method "
            "rs(Content-Type) cs-uri-scheme cs-host cs-uri-port cs-uri-path cs-uri-query "
            "cs-uri-extension cs(User-Agent) s-ip sc-bytes cs-bytes x-virus-id "
            "x-bluecoat-application-name x-bluecoat-application-operation").split()
TOKEN = re.compile(r'"[^"]*"|\S+')

fields = None
for line in sys.stdin:
    line = line.rstrip("\n")
    if line.startswith("#Fields:"):
        fields = line.split()[1:]
        continue
    if not line or line.startswith("#"):
        continue
    v = dict(zip(fields, TOKEN.findall(line)))
    path = v.get("cs-uri-path", "-")
    query = "-"
    if "?" in path:
        path, query = path.split("?", 1)
        query = "?" + query
    v["cs-uri-path"], v["cs-uri-query"] = path, query
    last = path.rsplit("/", 1)[-1]
    ext = last.rsplit(".", 1)[1] if "." in last[1:] and not last.endswith(".") else "-"
    v["cs-uri-extension"] = ext
    print(" ".join(v.get(f, "-") for f in BLUECOAT))
