#include "engine/sources.hpp"

namespace trafstat {

LoadOptions load_options(const CountingConfig& config)
{
    LoadOptions l;
    l.tables = config.tables;
    l.table_size = config.table_size;
    l.size_histogram = config.histogram;
    return l;
}

}  // namespace trafstat
