// Tests only talk to loopback: every service Hearth calls is a local fake.
process.env.HEARTH_ENV ??= 'test';
