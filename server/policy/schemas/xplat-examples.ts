/** One valid resource per cross-platform type: the shapes docs/stacks.md shows (checked by resource-schemas.test.ts). */
export const xplatExamples: Readonly<Record<string, Record<string, unknown>>> = {
  field_edit: {
    type: 'field_edit',
    target_path: '/etc/default/grub',
    key: 'GRUB_TIMEOUT',
    value: 5,
  },
};
