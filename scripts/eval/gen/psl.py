"""Registrable domains by the Public Suffix List (Debian's publicsuffix package)."""

PSL_FILE = "/usr/share/publicsuffix/public_suffix_list.dat"


class PSL:
    def __init__(self, path=PSL_FILE, icann_only=False):
        """icann_only: leave out the private section (blogspot.com, github.io...),
        whose names live inside their companies' zones, not under a registry."""
        self.rules, self.wild, self.exc = set(), set(), set()
        for line in open(path, encoding="utf-8"):
            line = line.strip()
            if icann_only and "===BEGIN PRIVATE DOMAINS===" in line:
                break
            if not line or line.startswith("//"):
                continue
            line = line.split()[0].encode("idna").decode("ascii") if not line.isascii() else line.split()[0]
            if line.startswith("!"):
                self.exc.add(line[1:])
            elif line.startswith("*."):
                self.wild.add(line[2:])
            else:
                self.rules.add(line)

    def suffix(self, name):
        """The public suffix of name (lower case, no trailing dot)."""
        labels = name.split(".")
        for i in range(len(labels)):
            cand = ".".join(labels[i:])
            if cand in self.exc:
                return ".".join(labels[i + 1:])
            if cand in self.rules:
                return cand
            if i + 1 < len(labels) and ".".join(labels[i + 1:]) in self.wild:
                return cand
        return labels[-1]

    def registrable(self, name):
        """eTLD+1 of name, or None when name is itself a public suffix."""
        name = name.lower().rstrip(".")
        suf = self.suffix(name)
        if name == suf:
            return None
        head = name[: -len(suf) - 1]
        return head.split(".")[-1] + "." + suf
