// src/domain/apps-urls.ts: the URL of a webapp, nested or flat subdomains.
import { describe, expect, it } from 'vitest';
import {
  appHost,
  appUrl,
  defaultRedirectionUrl,
  homeAppUrl,
  onboardedRedirectionUrl,
  parseRedirection,
  redirectionUrl,
  settingsAppUrl,
} from '../../../src/domain/apps-urls.js';

const nested = { subdomains: 'nested' as const, publicScheme: 'https' as const };
const flat = { subdomains: 'flat' as const, publicScheme: 'https' as const };

describe('apps URLs', () => {
  it('puts the slug before the domain (nested) or glues it to the first label (flat), keeping the port', () => {
    expect(appHost(nested, 'alice.example.net', 'home')).toBe('home.alice.example.net');
    expect(appHost(flat, 'alice.example.net', 'home')).toBe('alice-home.example.net');
    expect(appHost(nested, 'alice.test:8080', 'drive')).toBe('drive.alice.test:8080');
    expect(appHost(flat, 'alice.test:8080', 'drive')).toBe('alice-drive.test:8080');
    expect(appHost(flat, 'localhost:8080', 'drive')).toBe('localhost-drive:8080');
    expect(homeAppUrl(nested, 'alice.example.net')).toBe('https://home.alice.example.net/');
    expect(settingsAppUrl(flat, 'alice.example.net')).toBe('https://alice-settings.example.net/');
    expect(appUrl({ ...nested, publicScheme: 'http' }, 'a.b', 'x', { path: 'p/q', fragment: '/f' })).toBe('http://x.a.b/p/q#/f');
  });

  it('parses slug/path#fragment redirections', () => {
    expect(parseRedirection('drive/#/folder')).toEqual({ slug: 'drive', path: '/', fragment: '/folder' });
    expect(parseRedirection('home')).toEqual({ slug: 'home', path: '/', fragment: null });
    expect(parseRedirection('settings/profile')).toEqual({ slug: 'settings', path: '/profile', fragment: null });
    expect(parseRedirection('Bad Slug/x')).toBeNull();
    expect(parseRedirection('')).toBeNull();
    expect(parseRedirection('drive//evil.example')).toBeNull();
    expect(redirectionUrl(nested, 'alice.example.net', 'drive/#/folder')).toBe('https://drive.alice.example.net/#/folder');
    expect(redirectionUrl(flat, 'alice.example.net', 'photos/albums#/a')).toBe('https://alice-photos.example.net/albums#/a');
  });

  it('falls back to the home app', () => {
    expect(onboardedRedirectionUrl(nested, 'alice.example.net', null)).toBe('https://home.alice.example.net/');
    expect(onboardedRedirectionUrl(nested, 'alice.example.net', 'drive/#/x')).toBe('https://drive.alice.example.net/#/x');
    expect(onboardedRedirectionUrl(nested, 'alice.example.net', '%%%')).toBe('https://home.alice.example.net/');
    expect(defaultRedirectionUrl(nested, 'alice.example.net', [null, '', 'photos/'])).toBe('https://photos.alice.example.net/');
    expect(defaultRedirectionUrl(nested, 'alice.example.net', [undefined])).toBe('https://home.alice.example.net/');
  });
});
