# Shared by the generators (sourced): Debian packages, and a small network of
# namespaces on one bridge. Every namespace is named $LAB-*, every process in
# one is ended by its pid when the lab is torn down, and nothing is set up in
# the machine's own namespace.

LAB="${LAB:-s15d}"

need() { # need PKG... : install the Debian packages that are missing
  local miss=() p
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || miss+=("$p"); done
  if [ ${#miss[@]} -gt 0 ]; then
    echo "installing ${miss[*]}" >&2
    # no service is started by the packages' scripts (policy-rc.d), as in a container
    local prc=/usr/sbin/policy-rc.d made=
    if [ ! -e $prc ]; then printf '#!/bin/sh\nexit 101\n' >$prc; chmod +x $prc; made=1; fi
    apt-get update -qq || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${miss[@]}" >/dev/null
    [ -n "$made" ] && rm -f $prc
  fi
  return 0
}

lab_up() { # the switch: a namespace holding bridge br0
  lab_down
  ip netns add "$LAB-sw"
  ip -n "$LAB-sw" link add br0 type bridge
  ip -n "$LAB-sw" link set br0 up
}

lab_host() { # lab_host NAME ADDR/PREFIX... : a namespace with eth0 on the bridge
  local n="$1" ns="$LAB-$1" a; shift
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip link add eth0 netns "$ns" type veth peer name "v-$n" netns "$LAB-sw"
  ip -n "$LAB-sw" link set "v-$n" master br0 up
  for a in "$@"; do
    case $a in *:*) ip -n "$ns" addr add "$a" dev eth0 nodad;; *) ip -n "$ns" addr add "$a" dev eth0;; esac
  done
  ip -n "$ns" link set eth0 up
  # checksums computed in software, so that captures hold real ones
  ip netns exec "$ns" ethtool -K eth0 tx off rx off >/dev/null 2>&1 || true
}

lab_resolv() { # lab_resolv NAME LINES : /etc/resolv.conf as the namespace's programs see it
  mkdir -p "/etc/netns/$LAB-$1"
  printf '%b' "$2" >"/etc/netns/$LAB-$1/resolv.conf"
}

lab_down() { # end the processes in our namespaces (by pid) and delete them
  local ns p
  for ns in $(ip netns list | awk -v p="^$LAB-" '$1 ~ p {print $1}'); do
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -TERM "$p" 2>/dev/null || true; done
  done
  sleep 1
  for ns in $(ip netns list | awk -v p="^$LAB-" '$1 ~ p {print $1}'); do
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "/etc/netns/$ns"
  done
}

lab_exec() { local ns="$LAB-$1"; shift; ip netns exec "$ns" "$@"; }
