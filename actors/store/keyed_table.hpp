// A hash table of records keyed by one of their own fields.
//
// `std::unordered_map<std::string, T>` keeps every key twice when T holds its
// own id: once in the node and once in the record, two heap strings for a
// booking id. Here the key is read from the record, so a node holds the record
// alone, and lookups take a `std::string_view`.

#pragma once

#include <cstddef>
#include <functional>
#include <string_view>
#include <utility>

#include <boost/unordered_set.hpp>

namespace booking {

/// Records of type `T` by the key `KeyOf{}(record)`: a `Key` that views into
/// the record, such as a `std::string_view` of its id, hashed by `Hash` and
/// compared with `==`. The key of a stored record must never change.
template <class T, class KeyOf, class Key = std::string_view,
          class Hash = std::hash<Key>>
class keyed_table {
public:
  T* find(const Key& key) {
    auto i = slots_.find(key);
    return i == slots_.end() ? nullptr : &i->value;
  }

  const T* find(const Key& key) const {
    auto i = slots_.find(key);
    return i == slots_.end() ? nullptr : &i->value;
  }

  bool contains(const Key& key) const {
    return slots_.find(key) != slots_.end();
  }

  /// Inserts `x` unless a record with its key is present; returns the stored
  /// record and whether `x` went in.
  std::pair<T*, bool> insert(T x) {
    auto [i, added] = slots_.insert(slot{std::move(x)});
    return {&i->value, added};
  }

  /// Removes the record with `key`, if any.
  void erase(const Key& key) {
    auto i = slots_.find(key);
    if (i != slots_.end())
      slots_.erase(i);
  }

  size_t size() const {
    return slots_.size();
  }

  /// Calls `f(record)` for every record, in no particular order.
  template <class F>
  void for_each(F&& f) const {
    for (auto& s : slots_)
      f(static_cast<const T&>(s.value));
  }

private:
  /// The set's elements are const; everything but the key may change.
  struct slot {
    mutable T value;
  };

  static const Key& key_of(const Key& x) {
    return x;
  }

  static Key key_of(const slot& x) {
    return KeyOf{}(x.value);
  }

  struct hash {
    using is_transparent = void;
    template <class K>
    size_t operator()(const K& x) const {
      return Hash{}(key_of(x));
    }
  };

  struct equal {
    using is_transparent = void;
    template <class K1, class K2>
    bool operator()(const K1& x, const K2& y) const {
      return key_of(x) == key_of(y);
    }
  };

  // Node-based: a record keeps its address while others come and go (the
  // coordinator holds pointers to sagas, and links them into deadline
  // lists). An open-addressing table would move them.
  boost::unordered_set<slot, hash, equal> slots_;
};

} // namespace booking
