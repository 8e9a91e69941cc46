//! [`List`]: the growable array a [`super::Type`] keeps its members,
//! parameters, values and DATASEC entries in.

use std::fmt;
use std::ops::{Deref, DerefMut};

use thin_vec::ThinVec;

/// A growable array stored as one pointer (8 bytes inside a
/// [`super::Type`], against 24 for a `Vec`), with its length and capacity
/// on the heap next to the items. It dereferences to a slice; [`List::push`]
/// and [`List::pop`] grow and shrink it; build one with `collect()`,
/// `List::from(vec)` or `List::from([a, b])`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct List<T>(ThinVec<T>);

impl<T> List<T> {
    /// An empty list (no allocation).
    #[inline(always)]
    pub fn new() -> List<T> {
        List(ThinVec::new())
    }

    /// An empty list with room for `n` items.
    #[inline(always)]
    pub fn with_capacity(n: usize) -> List<T> {
        List(ThinVec::with_capacity(n))
    }

    /// Number of items (read from the heap header, without making a slice).
    #[inline(always)]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the list has no items.
    #[inline(always)]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Appends an item.
    #[inline(always)]
    pub fn push(&mut self, v: T) {
        self.0.push(v)
    }

    /// Removes and returns the last item.
    #[inline(always)]
    pub fn pop(&mut self) -> Option<T> {
        self.0.pop()
    }

    /// Removes every item.
    #[inline(always)]
    pub fn clear(&mut self) {
        self.0.clear()
    }

    /// Keeps the items for which `f` is true, in order.
    pub fn retain(&mut self, f: impl FnMut(&T) -> bool) {
        self.0.retain(f)
    }

    /// Shortens the list to `len` items.
    pub fn truncate(&mut self, len: usize) {
        self.0.truncate(len)
    }
}

impl<T> Default for List<T> {
    fn default() -> Self {
        List::new()
    }
}

impl<T: fmt::Debug> fmt::Debug for List<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.iter()).finish()
    }
}

impl<T> Deref for List<T> {
    type Target = [T];
    #[inline(always)]
    fn deref(&self) -> &[T] {
        &self.0
    }
}

impl<T> DerefMut for List<T> {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut [T] {
        &mut self.0
    }
}

impl<T> FromIterator<T> for List<T> {
    #[inline(always)]
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        List(iter.into_iter().collect())
    }
}

impl<T> Extend<T> for List<T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        self.0.extend(iter)
    }
}

impl<T> From<Vec<T>> for List<T> {
    fn from(v: Vec<T>) -> Self {
        v.into_iter().collect()
    }
}

impl<T, const N: usize> From<[T; N]> for List<T> {
    fn from(v: [T; N]) -> Self {
        v.into_iter().collect()
    }
}

/// The owning iterator of a [`List`].
pub struct IntoIter<T>(thin_vec::IntoIter<T>);

impl<T> Iterator for IntoIter<T> {
    type Item = T;
    #[inline(always)]
    fn next(&mut self) -> Option<T> {
        self.0.next()
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl<T> IntoIterator for List<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;
    fn into_iter(self) -> IntoIter<T> {
        IntoIter(self.0.into_iter())
    }
}

impl<'a, T> IntoIterator for &'a List<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    #[inline(always)]
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<'a, T> IntoIterator for &'a mut List<T> {
    type Item = &'a mut T;
    type IntoIter = std::slice::IterMut<'a, T>;
    #[inline(always)]
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter_mut()
    }
}
