/* Build facts reported by crossent.show_config(). */
#include "crossent.h"

const char *ce_compiler(void)
{
#if defined(__clang__)
    return "clang " __clang_version__;
#elif defined(__GNUC__)
    return "gcc " __VERSION__;
#elif defined(_MSC_VER)
#define CE_STR2(x) #x
#define CE_STR(x) CE_STR2(x)
    return "msvc " CE_STR(_MSC_VER);
#else
    return "unknown C compiler";
#endif
}
