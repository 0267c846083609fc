# SPDX-License-Identifier: GPL-2.0
#
# Shell helpers shared by scripts/*.sh (sourced, not run):
#
#   log MSG, die MSG      messages on stderr, prefixed with $prog
#   debian_archive_uri    the Debian archive this machine's apt uses
#   table_*, kernel_row   reading kernels.table
#   apt_source_file ...   a deb822 source (and a pin) for one more suite
#   meta_release ...      the release a metapackage points at in a suite
#   host_install_debs     install .deb files on the host (waits for dpkg)
#
# Set prog before sourcing for the message prefix (default: the script's
# name without .sh).

cowstat_top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
: "${prog:=$(basename "$0" .sh)}"
table_file=${COWSTAT_KERNELS_TABLE:-$cowstat_top/kernels.table}

log() { echo "$prog: [${SECONDS}s] $*" >&2; }
die() { echo "$prog: $*" >&2; exit 1; }

host_codename() { (. /etc/os-release && echo "${VERSION_CODENAME:-}"); }

# The URI of the main Debian archive this machine already uses for its own
# release (not the security archive).  Every other suite (backports, trixie,
# bullseye, sid) is taken from the same URI, so no mirror host is ever
# written into the repository.
debian_archive_uri() {
	local codename
	codename=$(host_codename)
	apt-get indextargets --format '$(REPO_URI) $(RELEASE)' \
		'Identifier: Packages' 2>/dev/null |
		awk -v rel="$codename" '$2 == rel && $1 !~ /security/ { print $1; exit }'
}

# apt-cache of the host; scripts/chroot-kernel.sh redefines it to run in a
# chroot (and sets apt_root to that chroot's directory).
# Machines set up from container images often have apt's binary cache turned
# off (Dir::Cache::pkgcache ""), and then every apt-cache call parses all
# the package lists again (1.5 s here); as root, keep one under
# /var/cache/cowstat/apt instead (apt rebuilds it when the lists change).
apt_root=
apt_cache() {
	local c=/var/cache/cowstat/apt
	if [ "$(id -u)" = 0 ] && mkdir -p "$c" 2>/dev/null; then
		apt-cache -o Dir::Cache::pkgcache="$c/pkgcache.bin" \
			-o Dir::Cache::srcpkgcache="$c/srcpkgcache.bin" "$@"
	else
		apt-cache "$@"
	fi
}

# Does the host's apt know SUITE?
apt_knows_suite() {
	apt-get indextargets --format '$(RELEASE)' 'Identifier: Packages' \
		2>/dev/null | grep -qx -- "$1"
}

# Write a deb822 source for SUITE at URI to FILE, and, with a PIN priority,
# a preferences file PREFS that pins the suite there, so that apt takes
# nothing from it unless asked for by name or version.
apt_source_file() {
	local file=$1 uri=$2 suite=$3 prefs=${4:-} pin=${5:-}
	cat >"$file" <<EOT
Types: deb
URIs: $uri
Suites: $suite
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOT
	[ -z "$prefs" ] || cat >"$prefs" <<EOT
Package: *
Pin: release n=$suite
Pin-Priority: $pin
EOT
}

# kernels.table, comments and blank lines removed, one row per line with
# single spaces; a malformed row stops everything.
table_rows() {
	[ -r "$table_file" ] || die "no kernel table $table_file"
	awk '
		{ sub(/#.*/, "") }
		NF == 0 { next }
		NF != 6 || ($5 != "host" && $5 !~ /^chroot:[a-z0-9.-]+$/) ||
		($6 != "full" && $6 != "build") {
			printf "%s:%d: want NAME SUITE IMAGE HEADERS host|chroot:SUITE full|build\n",
				FILENAME, FNR > "/dev/stderr"
			bad = 1; exit 1
		}
		seen[$1]++ { printf "%s:%d: %s twice\n", FILENAME, FNR, $1 > "/dev/stderr"; bad = 1; exit 1 }
		{ print $1, $2, $3, $4, $5, $6 }' "$table_file" ||
		die "bad kernel table $table_file"
}

# Names of the rows, in table order; with an argument only the rows whose
# test column is that (full or build) or whose build column is that (host,
# chroot:SUITE, or "chroot" for every chroot row).
table_names() {
	local want=${1:-} name suite image headers env test
	table_rows | while read -r name suite image headers env test; do
		case $want in
		'' | "$test" | "$env") echo "$name" ;;
		chroot) [ "${env#chroot:}" = "$env" ] || echo "$name" ;;
		esac
	done
}

# kernel_row NAME: set K_NAME K_SUITE K_IMAGE K_HEADERS K_ENV K_TEST and
# K_CHROOT (the chroot's suite, empty for host); false for an unknown name.
kernel_row() {
	local line
	line=$(table_rows | awk -v n="$1" '$1 == n') || return 1
	[ -n "$line" ] || return 1
	read -r K_NAME K_SUITE K_IMAGE K_HEADERS K_ENV K_TEST <<<"$line"
	K_CHROOT=
	case $K_ENV in chroot:*) K_CHROOT=${K_ENV#chroot:} ;; esac
}

# The version of PACKAGE that SUITE has, according to apt_cache.  For the
# host's own release its -updates and -security suites count as well (the
# highest version wins, as apt would choose).
suite_version() {
	local pkg=$1 suite=$2 own=
	[ -n "$apt_root" ] || [ "$suite" != "$(host_codename)" ] || own=1
	apt_cache madison "$pkg" 2>/dev/null |
		awk -F' *[|] *' -v s="$suite" -v own="$own" '
			{ split($3, w, " "); split(w[2], d, "/") }
			d[1] == s || (own && (d[1] == s "-updates" || d[1] == s "-security")) {
				print $2; exit
			}'
}

# meta_release SUITE METAPACKAGE PREFIX: the release METAPACKAGE (in SUITE,
# per apt_cache) depends on, its dependency "PREFIX-REL" read as REL:
# linux-image-6.1.0-57-rt-amd64 -> 6.1.0-57-rt-amd64.  Prints "RELEASE
# VERSION" (VERSION: the metapackage's).
meta_release() {
	local suite=$1 meta=$2 prefix=$3 ver dep rel
	ver=$(suite_version "$meta" "$suite")
	[ -n "$ver" ] || {
		echo "$prog: apt${apt_root:+ in $apt_root} knows no $meta in $suite" >&2
		return 1
	}
	dep=$(apt_cache show "$meta=$ver" 2>/dev/null |
		sed -n 's/^Depends: //p' | head -n 1)
	rel=$(echo "$dep" | tr ',' '\n' |
		sed -n "s/^ *$prefix-\\([0-9][^ ]*\\).*/\\1/p" | head -n 1)
	[ -n "$rel" ] || {
		echo "$prog: cannot read a release off $meta $ver's Depends: '$dep'" >&2
		return 1
	}
	echo "$rel $ver"
}

# Install local .deb files on the host.  apt-get (not dpkg -i) because it
# waits for the dpkg lock, which another preparation running in parallel, or
# scripts/setup.sh, may hold; the packages' dependencies are already there.
# Its chatter (debconf without apt-utils) is shown only on failure.
#
# INITRD=No: the kernels are only booted by virtme-ng, which makes its own
# initramfs, so initramfs-tools' kernel hook is skipped (25 s a kernel).  The
# DKMS lock of scripts/dkms_test.sh is held meanwhile, because
# DKMS's own kernel hook would otherwise build a cowstat that a DKMS test
# running in parallel has just added, for this new kernel.
host_install_debs() {
	local out rc=0
	out=$(flock /run/lock/cowstat-dkms.lock env INITRD=No \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends -o DPkg::Lock::Timeout=900 "$@" 2>&1) || rc=$?
	[ "$rc" = 0 ] || echo "$out" >&2
	return "$rc"
}
