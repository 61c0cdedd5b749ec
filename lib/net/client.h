/* The client side of the server API: net/net.h (the name it had before). */
#include "net/net.h"
