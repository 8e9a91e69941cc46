//! Archive walking: the real per-object kernel archive, padding, trailing
//! garbage, mixed endianness, base+children archives.

mod common;

use btfkit::archive;
use btfkit::btf::{Endianness, int_encoding};
use btfkit::parse::ParseOptions;
use btfkit::{Btf, write};

fn small(name: &str) -> Btf {
    let mut b = Btf::new();
    let int = b.add_int("int", 4, int_encoding::SIGNED).unwrap();
    b.add_struct(name, 4).unwrap();
    b.add_field("x", int, 0, 0).unwrap();
    b
}

#[test]
fn real_kernel_archive_layout_matches_members_csv() {
    let Some(p) = common::kernel_archive_file("archive.btf.xz") else {
        return common::skip_soft("../shared not present");
    };
    let data = std::fs::read(&p).unwrap();
    let layout = archive::walk(&data, 0, false).unwrap();
    assert_eq!(layout.members.len(), 837);
    let csv = std::fs::read_to_string(common::shared().unwrap().join("fixtures/kernel-archive/members.csv")).unwrap();
    let members = archive::parse_members(&data, &layout, &ParseOptions::new()).unwrap();
    let mut rows = 0;
    for line in csv.lines().skip(1) {
        // index,offset,size,pad_before,type_len,str_len,nr_types,source
        let f: Vec<&str> = line.split(',').collect();
        let i: usize = f[0].parse().unwrap();
        let m = &layout.members[i];
        assert_eq!(m.offset, f[1].parse::<usize>().unwrap(), "member {i} offset");
        assert_eq!(m.size, f[2].parse::<usize>().unwrap(), "member {i} size");
        assert_eq!(m.pad_before, f[3].parse::<usize>().unwrap(), "member {i} padding");
        assert_eq!(members[i].types().len(), f[6].parse::<usize>().unwrap(), "member {i} types");
        rows += 1;
    }
    assert_eq!(rows, 837);
    // The members iterator gives each member's own bytes, back to back with the padding.
    let mut end = 0;
    for (m, bytes) in layout.members_in(&data) {
        assert_eq!(m.offset, end + m.pad_before, "member {} follows the previous one", m.index);
        assert_eq!(btfkit::parse::parse_header(bytes, m.offset).unwrap(), m.header, "member {}", m.index);
        assert_eq!(bytes.len(), m.size);
        end = m.offset + bytes.len();
    }
    assert_eq!(end + layout.pad_after, data.len());
    let total: usize = members.iter().map(|m| m.types().len()).sum();
    assert_eq!(total, 1_164_836);
}

#[test]
fn zero_padding_is_skipped_and_counted() {
    let a = write::to_bytes(&small("a"));
    let b = write::to_bytes(&small("b"));
    let mut data = a.clone();
    data.extend_from_slice(&[0; 3]);
    data.extend_from_slice(&b);
    data.extend_from_slice(&[0; 5]);
    let layout = archive::walk(&data, 100, false).unwrap();
    assert_eq!(layout.members.len(), 2);
    assert_eq!(layout.members[1].offset, a.len() + 3);
    assert_eq!(layout.members[1].pad_before, 3);
    assert_eq!(layout.pad_after, 5);
}

#[test]
fn trailing_garbage_is_an_error_naming_the_offset_unless_lenient() {
    let a = write::to_bytes(&small("a"));
    let mut data = a.clone();
    data.extend_from_slice(b"\x01garbage");
    let err = archive::walk(&data, 1000, false).unwrap_err().to_string();
    assert!(err.contains(&format!("offset {}", 1000 + a.len())), "{err}");
    let layout = archive::walk(&data, 1000, true).unwrap();
    assert_eq!(layout.members.len(), 1);
    assert_eq!(layout.stopped.as_ref().map(|s| s.0), Some(1000 + a.len()));
}

#[test]
fn mixed_endianness_is_rejected() {
    let a = write::to_bytes(&small("a"));
    let b = write::to_bytes_endian(&small("b"), Endianness::Big);
    let err = archive::walk(&[a.clone(), b].concat(), 0, false).unwrap_err().to_string();
    assert!(err.contains("endian"), "{err}");
    let b2 = write::to_bytes_endian(&small("b"), Endianness::Big);
    let both_big = [write::to_bytes_endian(&small("a"), Endianness::Big), b2].concat();
    assert_eq!(archive::walk(&both_big, 0, false).unwrap().members.len(), 2);
}

#[test]
fn member_parsing_does_not_depend_on_thread_count() {
    let blobs: Vec<Vec<u8>> = (0..64).map(|i| write::to_bytes(&small(&format!("s{i}")))).collect();
    let data = archive::build(&blobs);
    let layout = archive::walk(&data, 0, false).unwrap();
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let a = one.install(|| archive::parse_members(&data, &layout, &ParseOptions::new()).unwrap());
    let b = archive::parse_members(&data, &layout, &ParseOptions::new()).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.len(), 64);
}

#[test]
fn base_and_children_archive_round_trips() {
    let Some(shared) = common::shared() else { return common::skip_soft("../shared not present") };
    let d = shared.join("fixtures/debian-6.1");
    let base = std::sync::Arc::new(btfkit::input::load(&d.join("vmlinux.btf"), None).unwrap());
    let kids: Vec<Btf> = ["crc7.ko", "virtio_net.ko", "ext4.ko"]
        .iter()
        .map(|k| btfkit::input::load(&d.join("elf").join(k), Some(base.clone())).unwrap())
        .collect();
    let mut blobs = vec![write::to_bytes(&base)];
    blobs.extend(kids.iter().map(write::to_bytes));
    let data = archive::build(&blobs);
    let layout = archive::walk(&data, 0, false).unwrap();
    assert_eq!(layout.members.len(), 4);
    assert!(archive::parse_members(&data, &layout, &ParseOptions::new()).is_err(), "children are not standalone BTF");
    let (b, children) = archive::parse_split_members(&data, &layout, &ParseOptions::new()).unwrap();
    assert_eq!(*b, *base);
    assert_eq!(children, kids);
    // What `archive list` reads: base+children detected, members in order.
    let (all, split) = archive::parse_members_or_split(&data, &layout, &ParseOptions::new()).unwrap();
    assert!(split);
    assert_eq!(all[0], *base);
    assert_eq!(all[1..], kids[..]);
    assert_eq!(archive::build_split(&base, &kids), data, "build_split writes the same archive");
    let plain = archive::build(&blobs[1..2].iter().chain(&blobs[..1]).cloned().collect::<Vec<_>>());
    let plain_layout = archive::walk(&plain, 0, false).unwrap();
    assert!(archive::parse_members_or_split(&plain, &plain_layout, &ParseOptions::new()).is_err(), "child first");
    let (one, split) =
        archive::parse_members_or_split(&blobs[0], &archive::walk(&blobs[0], 0, false).unwrap(), &ParseOptions::new())
            .unwrap();
    assert!(!split && one.len() == 1);
}

/// Members are parsed a window at a time: every member reaches the consumer
/// once, in order, each window's byte range is reported once, and a bad
/// member in a later window stops the walk with its own offset.
#[test]
fn for_each_member_streams_in_order_and_stops_at_a_bad_member() {
    let blobs: Vec<Vec<u8>> = (0..150).map(|i| write::to_bytes(&small(&format!("s{i}")))).collect();
    let data = archive::build(&blobs);
    let layout = archive::walk(&data, 0, false).unwrap();
    assert_eq!(layout.members.len(), 150);
    let mut names = Vec::new();
    let spans = std::sync::Mutex::new(Vec::new());
    archive::for_each_member(
        &data,
        &layout,
        &ParseOptions::new(),
        |b| {
            names.push(b.name(b.types()[1].name_off).into_owned());
            Ok(())
        },
        |r| spans.lock().unwrap().push(r),
    )
    .unwrap();
    assert_eq!(names, (0..150).map(|i| format!("s{i}")).collect::<Vec<_>>());
    let spans = spans.into_inner().unwrap();
    assert_eq!(spans.first().map(|r| r.start), Some(0));
    assert_eq!(spans.last().map(|r| r.end), Some(data.len()));
    assert!(spans.windows(2).all(|w| w[0].end == w[1].start), "{spans:?}");
    // The merged result equals appending the members one by one.
    let (mut merged, stats) =
        btfkit::dedup::merge_all(|add| archive::for_each_member(&data, &layout, &ParseOptions::new(), add, |_| {}))
            .unwrap();
    assert_eq!(stats.members, 150);
    merged.dedup(&Default::default()).unwrap();
    let mut one_by_one = btfkit::parse::parse(&blobs[0]).unwrap();
    for b in &blobs[1..] {
        one_by_one.append(&btfkit::parse::parse(b).unwrap()).unwrap();
    }
    one_by_one.dedup(&Default::default()).unwrap();
    assert_eq!(write::to_bytes(&merged), write::to_bytes(&one_by_one));

    // Member 100 (in the second window) gets an unknown kind.
    let mut bad = data.clone();
    let at = layout.members[100].offset + 24 + 4 + 3; // first type's info word, kind byte
    bad[at] = 0x1f;
    let mut seen = 0;
    let err = archive::for_each_member(
        &bad,
        &layout,
        &ParseOptions::new(),
        |_| {
            seen += 1;
            Ok(())
        },
        |_| {},
    )
    .unwrap_err();
    assert!(err.to_string().contains(&format!("offset {}", layout.members[100].offset + 24)), "{err}");
    assert!(seen <= 100, "members after the bad one are not consumed: {seen}");
}
