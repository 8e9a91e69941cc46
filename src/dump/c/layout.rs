//! Layout (libbpf's `btf__resolve_size`, `btf__align_of`, packed-struct
//! detection and btf_dump.c's bit padding between members).

use std::io::Write as _;

use super::*;
use crate::btf::query::resolve_size;

impl<'a> Dumper<'a> {
    /// libbpf's `btf__resolve_size`, clamped at 0 on error as its caller
    /// does (the model's [`crate::btf::query`]).
    pub(super) fn resolve_size(&self, id: u32) -> i64 {
        resolve_size(self.btf, self.ptr_sz, TypeId(id)).map_or(0, i64::from)
    }

    /// libbpf's `btf__align_of` (0 for unsupported kinds), memoized in the
    /// model's [`Layout`]; each struct whose members are walked is a step
    /// of the dumper's work.
    pub(super) fn align_of(&mut self, id: u32) -> Result<i32> {
        let (work, work_limit, out_len, out_limit) = (&mut self.work, self.work_limit, self.out.len(), self.out_limit);
        self.layout.align_with(id, self.max_frames, &mut |sid| check_step(work, work_limit, out_len, out_limit, sid))
    }

    pub(super) fn is_struct_packed(&mut self, c: &'a Composite) -> Result<bool> {
        let mut max_align: i32 = 1;
        for m in &c.members {
            let align = self.align_of(m.ty.0)?;
            let bit_sz = c.bitfield_size(m);
            if align != 0 && bit_sz == 0 && m.offset as i64 % (8 * align as i64) != 0 {
                return Ok(true);
            }
            max_align = max_align.max(align);
        }
        Ok(c.size as i64 % max_align as i64 != 0)
    }

    /// Padding fields from bit `cur_off` to `next_off`. A struct may be
    /// 4 GiB large: its padding would be 2^29 `long: 64;` lines, so the
    /// output limit is checked as they are written.
    pub(super) fn emit_bit_padding(
        &mut self,
        id: u32,
        cur_off: i64,
        next_off: i64,
        next_align: i32,
        in_bitfield: bool,
        lvl: usize,
    ) -> Result<()> {
        let pads: [(&[u8], i64); 4] = [(b"long", self.ptr_sz as i64 * 8), (b"int", 32), (b"short", 16), (b"char", 8)];
        let mut cur_off = cur_off;
        if cur_off >= next_off {
            return Ok(());
        }
        let (mut pad_type, mut pad_bits, mut new_off) = (pads[0].0, pads[0].1, 0);
        for &(name, bits) in &pads {
            pad_bits = bits;
            pad_type = name;
            new_off = roundup(cur_off, pad_bits).unwrap_or(i64::MAX);
            if new_off <= next_off {
                break;
            }
        }
        if new_off > cur_off && new_off <= next_off {
            let aligned_mismatch = match roundup(cur_off, next_align as i64 * 8) {
                Some(r) => r != new_off,
                None => true,
            };
            if in_bitfield
                || (new_off == next_off && aligned_mismatch)
                || (new_off != next_off && next_off - new_off <= new_off - cur_off)
            {
                self.out.push(b'\n');
                self.p(pfx(lvl));
                self.p(pad_type);
                let n = if in_bitfield { new_off - cur_off } else { 0 };
                let _ = write!(self.out, ": {};", n as i32);
            }
            cur_off = new_off;
        }
        while cur_off != next_off {
            if self.out.len() > self.out_limit {
                return Err(Error::OutputLimit {
                    id: TypeId(id),
                    limit: self.out_limit,
                    why: format!("padding up to bit {next_off}"),
                });
            }
            let bits = (next_off - cur_off).min(pad_bits);
            if bits == pad_bits {
                self.out.push(b'\n');
                self.p(pfx(lvl));
                self.p(pad_type);
                let _ = write!(self.out, ": {};", pad_bits);
                cur_off += bits;
                continue;
            }
            let mut progressed = false;
            for &(name, pbits) in pads.iter().rev() {
                pad_type = name;
                pad_bits = pbits;
                if pad_bits < bits {
                    continue;
                }
                self.out.push(b'\n');
                self.p(pfx(lvl));
                self.p(pad_type);
                let _ = write!(self.out, ": {};", bits);
                cur_off += bits;
                progressed = true;
                break;
            }
            if !progressed {
                // Cannot happen (long covers any remainder below pad_bits).
                break;
            }
        }
        Ok(())
    }
}
