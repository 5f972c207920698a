#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write a C file that holds a binary (the check kernel's fatbin) as bytes."""
import sys

src, dst, name = sys.argv[1:4]
data = open(src, 'rb').read()
with open(dst, 'w') as f:
    f.write('/* Generated from %s by lib/cuda/embed.py. */\n' % src.split('/')[-1])
    f.write('#include <stddef.h>\n')
    # Aligned: cuModuleLoadData reads the fatbin header in place.
    f.write('__attribute__((aligned(16))) const unsigned char %s[] = {\n' % name)
    for i in range(0, len(data), 16):
        f.write('  ' + ''.join('0x%02x,' % b for b in data[i:i + 16]) + '\n')
    f.write('};\nconst size_t %s_len = %d;\n' % (name, len(data)))
