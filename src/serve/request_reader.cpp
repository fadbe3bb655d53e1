#include "serve/request_reader.hpp"

#include <algorithm>
#include <poll.h>

namespace trafstat {

bool request_arrived(std::string_view received)
{
    // A blank line ends the head: "\r\n\r\n", or with bare LFs (httplib takes them) "\n\n", "\n\r\n".
    return received.size() >= kRequestBytes || received.find("\n\r\n") != std::string_view::npos ||
           received.find("\n\n") != std::string_view::npos;
}

bool BoundedStream::is_readable() const
{
    return connection_.ready(POLLIN);
}

bool BoundedStream::is_writable() const
{
    return connection_.ready(POLLOUT);
}

ssize_t BoundedStream::read(char* ptr, size_t size)
{
    if (budget_ == 0 || !is_readable())
        return -1;
    const ssize_t n = connection_.receive(ptr, std::min(size, budget_));
    if (n > 0)
        budget_ -= static_cast<std::size_t>(n);
    return n;
}

ssize_t BoundedStream::write(const char* ptr, size_t size)
{
    return is_writable() ? connection_.send(ptr, size) : -1;
}

void BoundedStream::get_remote_ip_and_port(std::string& ip, int& port) const
{
    connection_.endpoint(true, ip, port);
}

void BoundedStream::get_local_ip_and_port(std::string& ip, int& port) const
{
    connection_.endpoint(false, ip, port);
}

socket_t BoundedStream::socket() const
{
    return connection_.socket();
}

}  // namespace trafstat
