// One name table per enum: parsing, --help, error messages and printing all
// read it, so a value's name is written once. Each enum's table lives in the
// layer that owns the enum (attach/, output/, stats/).
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace trafstat {

template <class Enum>
struct NameEntry {
    Enum value;
    std::string_view name;
    std::string_view help = {};  // one line for --help; empty: not described there
};

template <class Enum, std::size_t N>
struct NameTable {
    std::array<NameEntry<Enum>, N> entries;

    // The value's name; every value of the enum has one (a missing entry is a
    // programming error, shown as "?").
    constexpr std::string_view name(Enum value) const
    {
        for (const auto& e : entries)
            if (e.value == value)
                return e.name;
        return "?";
    }
    // The value with that exact name, or nullopt: no silent fallback.
    constexpr std::optional<Enum> parse(std::string_view name) const
    {
        for (const auto& e : entries)
            if (e.name == name)
                return e.value;
        return std::nullopt;
    }
    // Every value, in the table's order.
    constexpr std::array<Enum, N> values() const
    {
        std::array<Enum, N> out{};
        for (std::size_t i = 0; i < N; ++i)
            out[i] = entries[i].value;
        return out;
    }
    std::vector<std::string> names() const
    {
        std::vector<std::string> out;
        for (const auto& e : entries)
            out.emplace_back(e.name);
        return out;
    }
    // "a, b or c": for help texts and error messages.
    std::string alternatives() const
    {
        std::string out;
        for (std::size_t i = 0; i < N; ++i) {
            if (i)
                out += i + 1 == N ? " or " : ", ";
            out += entries[i].name;
        }
        return out;
    }
    // One "  name  help" line per described value, names padded to one column.
    std::string described() const
    {
        std::size_t width = 0;
        for (const auto& e : entries)
            width = e.name.size() > width ? e.name.size() : width;
        std::string out;
        for (const auto& e : entries) {
            if (e.help.empty())
                continue;
            if (!out.empty())
                out += '\n';
            out += "  ";
            out += e.name;
            out.append(width + 2 - e.name.size(), ' ');
            out += e.help;
        }
        return out;
    }
};

// Deduces N: `constexpr auto kNames = name_table<Hook>({{...}, {...}})`.
template <class Enum, std::size_t N>
constexpr NameTable<Enum, N> name_table(const NameEntry<Enum> (&entries)[N])
{
    NameTable<Enum, N> t{};
    for (std::size_t i = 0; i < N; ++i)
        t.entries[i] = entries[i];
    return t;
}

}  // namespace trafstat
